import Foundation

/// What `airlock doctor` looks at: explicit paths (the CLI resolves `AIRLOCK_HOME` once and hands
/// them over; this module reads no environment of its own), the endpoint to check, and the bounds.
public struct DoctorConfiguration: Sendable {
    /// `AIRLOCK_HOME`: must not be group- or world-writable.
    public var home: URL
    /// Keys, one per purpose: every file 0600 or stricter, owned by the user.
    public var keys: URL
    /// The secret store (`AIRLOCK_HOME/secrets`): 0700, files 0600, when present.
    public var secrets: URL
    /// The site configuration (`AIRLOCK_HOME/site.yaml`), for `model_hosts:`.
    public var siteFile: URL
    /// The installed model artefacts (`AIRLOCK_MODEL_HOME` or `AIRLOCK_HOME/model`).
    public var modelDirectory: URL
    /// The embedded model server's unix socket: the endpoint `airlock run` uses without `--model`.
    public var embeddedSocket: URL
    /// The model server supervisor's state file (`AIRLOCK_HOME/run/model-server.json`).
    public var modelServerState: URL
    /// The tool registry's home (the directory holding `registry.sqlite` and `tools/objects`).
    public var registryHome: URL
    /// The trace database.
    public var traceDatabase: URL
    /// The model endpoint to check instead of the embedded one (`airlock doctor --model`).
    public var modelEndpoint: String?
    /// The checkout's `manifests/models.lock`, when doctor runs from Airlock's checkout: the
    /// installed lock copy is compared with it.
    public var checkoutLock: URL?
    /// The environment doctor itself runs with (names are reported, values never).
    public var environment: [String: String]
    /// Why the model server could not be started for the check (`--start-model`), if it could not.
    public var modelServerStartFailure: String?
    /// The most the tool-network probe may run, in seconds. Default 20.
    public var probeWallTimeSeconds: Double
    /// The probe's interpreter, as seen inside the sandbox. Default `/usr/bin/python3` (the
    /// shipped tools' interpreter, so present wherever tools run).
    public var probeInterpreter: String

    /// Creates a configuration.
    /// - Parameters:
    ///   - home: `AIRLOCK_HOME`.
    ///   - keys: the keys directory.
    ///   - secrets: the secret store directory.
    ///   - siteFile: `site.yaml`.
    ///   - modelDirectory: the installed model artefacts.
    ///   - embeddedSocket: the embedded model server's socket.
    ///   - modelServerState: the supervisor's state file.
    ///   - registryHome: where the tool registry lives (usually `home`).
    ///   - traceDatabase: the trace database.
    ///   - modelEndpoint: an endpoint to check instead of the embedded one (default none).
    ///   - checkoutLock: the checkout's model lock, if any (default none).
    ///   - environment: doctor's own environment (default the process's).
    ///   - modelServerStartFailure: why `--start-model` could not start the server (default none).
    ///   - probeWallTimeSeconds: the tool-network probe's wall-time bound (default 20 s).
    ///   - probeInterpreter: the probe's interpreter inside the sandbox (default `/usr/bin/python3`).
    public init(
        home: URL, keys: URL, secrets: URL, siteFile: URL, modelDirectory: URL, embeddedSocket: URL,
        modelServerState: URL, registryHome: URL, traceDatabase: URL, modelEndpoint: String? = nil,
        checkoutLock: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        modelServerStartFailure: String? = nil, probeWallTimeSeconds: Double = 20,
        probeInterpreter: String = "/usr/bin/python3"
    ) {
        self.home = home
        self.keys = keys
        self.secrets = secrets
        self.siteFile = siteFile
        self.modelDirectory = modelDirectory
        self.embeddedSocket = embeddedSocket
        self.modelServerState = modelServerState
        self.registryHome = registryHome
        self.traceDatabase = traceDatabase
        self.modelEndpoint = modelEndpoint
        self.checkoutLock = checkoutLock
        self.environment = environment
        self.modelServerStartFailure = modelServerStartFailure
        self.probeWallTimeSeconds = probeWallTimeSeconds
        self.probeInterpreter = probeInterpreter
    }
}
