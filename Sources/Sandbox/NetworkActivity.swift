/// What a run with corridors did on the network: its corridors and limits, every connection
/// through them, and every connect it was refused. Lands in the trace with the execution record.
public struct NetworkActivity: Sendable, Hashable, Codable {
    /// The run's corridors, as given.
    public var corridors: [Corridor]
    /// The bounds in force.
    public var limits: CorridorLimits
    /// Each connection the program made to a corridor, in the order they were accepted.
    public var connections: [CorridorConnection]
    /// Each connect the sandbox refused, in order, as `ADDRESS:PORT` (`[ADDRESS]:PORT` for IPv6,
    /// `family N` for another family): an undeclared port, another address, a raw IP.
    public var refusedConnects: [String]

    /// Creates a record.
    public init(
        corridors: [Corridor], limits: CorridorLimits, connections: [CorridorConnection], refusedConnects: [String]
    ) {
        self.corridors = corridors
        self.limits = limits
        self.connections = connections
        self.refusedConnects = refusedConnects
    }
}

/// One connection a program made to a corridor.
public struct CorridorConnection: Sendable, Hashable, Codable {
    /// How a connection ended.
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Forwarded until either side closed.
        case closed
        /// Closed at once, nothing forwarded: see ``CorridorConnection/reason``.
        case refused
        /// Forwarded, then cut by Airlock: see ``CorridorConnection/reason``.
        case cut
    }

    /// The corridor's declared host and port.
    public var host: String
    public var port: UInt16
    /// The address Airlock connected to (or tried to).
    public var address: String
    /// Bytes from the program to the service.
    public var bytesSent: UInt64
    /// Bytes from the service to the program.
    public var bytesReceived: UInt64
    /// From accept to the end of forwarding, in seconds.
    public var durationSeconds: Double
    /// How it ended.
    public var outcome: Outcome
    /// For an HTTP corridor: the request's method and path (without its query), and the status
    /// the service (or, for a refused request, Airlock) answered with.
    public var method: String?
    public var path: String?
    public var status: Int?
    /// Why it was refused or cut (`connection limit (32 per call)`, `connect 10.0.0.2:5432:
    /// Connection refused (ECONNREFUSED)`, `byte limit (67108864 per call)`, `the run ended`).
    public var reason: String?

    /// Creates a record.
    public init(
        host: String, port: UInt16, address: String, bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0,
        durationSeconds: Double = 0, outcome: Outcome, reason: String? = nil
    ) {
        self.host = host
        self.port = port
        self.address = address
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.durationSeconds = durationSeconds
        self.outcome = outcome
        self.reason = reason
    }
}
