import Agent
import AirlockCore
import Foundation
import HTTPTypes
import Hummingbird
import MCP
import Runs
import Synchronization

/// `airlock mcp serve --http unix:PATH`: MCP's streamable HTTP transport (revision 2025-11-25) on
/// a unix socket, the endpoint `/mcp`. Every MCP session — an `initialize` without a session id —
/// is a run of the profile's workflow, assembled and served exactly as over stdio
/// (``MCPToolServer``); the SDK's `StatefulHTTPServerTransport` speaks the protocol (session ids,
/// SSE streams, the origin, accept, content-type and protocol-version checks), this routes each
/// request to its session.
///
/// The socket is the access control: it is created 0600 in a 0700 directory (AirlockCore's
/// ``SocketPath``, as the console's), so only its owner's processes connect, and no network
/// address is ever bound.
public final class MCPHTTPGateway: Sendable {
    /// The endpoint's path.
    public static let endpoint = "/mcp"
    /// The largest request body taken, in bytes: a call's arguments are bounded well below it
    /// (``MCPToolServer/maxArgumentBytes``).
    public static let maxBodyBytes = 1 << 20
    /// The most sessions open at once; an `initialize` beyond it is refused (503) rather than a run
    /// started that could not be served.
    public static let maxSessions = 32

    /// Makes the server of a new session: a run, assembled, nothing recorded yet.
    public typealias SessionFactory = @Sendable () throws(RunsError) -> MCPToolServer

    /// What happened to a session, for the front door's messages.
    public enum SessionEvent: Sendable {
        /// A session began; its run has this id.
        case started(session: String, runID: String)
        /// A session's run ended.
        case ended(session: String, outcome: AgentRunOutcome)
        /// A session's run could not be served.
        case failed(session: String, error: RunsError)
    }

    private struct Session: Sendable {
        let transport: StatefulHTTPServerTransport
        let task: Task<Void, Never>
    }

    private let makeSession: SessionFactory
    private let onEvent: @Sendable (SessionEvent) -> Void
    private let sessions = Mutex<[String: Session]>([:])

    /// A gateway whose sessions are made by `makeSession`.
    public init(makeSession: @escaping SessionFactory, onEvent: @escaping @Sendable (SessionEvent) -> Void) {
        self.makeSession = makeSession
        self.onEvent = onEvent
    }

    /// Serves on `socketPath` until the task is cancelled, then ends every session's run.
    /// - Parameter onListening: told once the socket accepts connections.
    public func run(socketPath: String, onListening: @escaping @Sendable () -> Void) async throws {
        do {
            try SocketPath.prepare(socketPath)
        } catch {
            throw RunsError(.state, "--http unix:\(socketPath): \(error)")
        }
        let router = Router(context: BasicRequestContext.self)
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on(RouterPath(Self.endpoint), method: method) { request, _ in
                try await self.respond(to: request)
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
            onServerRunning: { _ in
                SocketPath.restrict(socketPath)
                onListening()
            })
        do {
            try await withTaskCancellationHandler {
                try await app.run()
            } onCancel: {
                self.endAll()
            }
        } catch {
            endAll()
            throw error
        }
        endAll()
    }

    /// The sessions open now.
    public var openSessions: Int { sessions.withLock { $0.count } }

    private func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let message = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers,
            body: body.readableBytes == 0 ? nil : Data(body.readableBytesView), path: request.uri.path)
        let transport: StatefulHTTPServerTransport
        if let id = message.header(HTTPHeaderName.sessionID) {
            guard let session = sessions.withLock({ $0[id] }) else {
                return Self.plain(.notFound, "no MCP session \(id) (it ended, or never began); initialize a new one")
            }
            transport = session.transport
        } else {
            guard request.method == .post else {
                return Self.plain(.badRequest, "an MCP session begins with a POST of initialize")
            }
            guard openSessions < Self.maxSessions else {
                return Self.plain(.serviceUnavailable, "\(Self.maxSessions) MCP sessions are open; try again later")
            }
            transport = StatefulHTTPServerTransport()
        }
        let response = await transport.handleRequest(message)
        if message.header(HTTPHeaderName.sessionID) == nil, let id = response.headers[HTTPHeaderName.sessionID] {
            begin(session: id, transport: transport)
        }
        return Self.response(response)
    }

    /// Starts the run of a session the transport has just initialised.
    private func begin(session id: String, transport: StatefulHTTPServerTransport) {
        let server: MCPToolServer
        do {
            server = try makeSession()
        } catch {
            onEvent(.failed(session: id, error: error))
            Task { await transport.disconnect() }
            return
        }
        let onEvent = self.onEvent
        let task = Task { [weak self] in
            do throws(RunsError) {
                let outcome = try await server.serve(over: transport) { event in
                    if case .started(let runID) = event { onEvent(.started(session: id, runID: runID)) }
                }
                onEvent(.ended(session: id, outcome: outcome))
            } catch {
                onEvent(.failed(session: id, error: error))
            }
            _ = self?.sessions.withLock { $0.removeValue(forKey: id) }
        }
        sessions.withLock { $0[id] = Session(transport: transport, task: task) }
    }

    /// Ends every open session: its run is cancelled and recorded as such.
    private func endAll() {
        let open = sessions.withLock { $0.values.map { $0 } }
        for session in open {
            session.task.cancel()
            Task { await session.transport.disconnect() }
        }
    }

    /// The SDK's response as Hummingbird's: status, headers, and the body or SSE stream.
    private static func response(_ response: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let status = HTTPResponse.Status(code: response.statusCode)
        switch response {
        case .stream(let stream, _):
            let bytes = stream.map { ByteBuffer(bytes: $0) }
            return Response(status: status, headers: fields, body: ResponseBody(asyncSequence: bytes))
        default:
            let body = response.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
            return Response(status: status, headers: fields, body: body)
        }
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
