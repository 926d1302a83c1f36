import AirlockCore
import Foundation
import Model
import ModelRuntime
import Runs

#if canImport(Glibc)
    import Glibc
#endif

/// Time per request through Airlock's model client (connection, HTTP over the unix socket, JSON)
/// against the confined llama-server's own `timings` for the same requests (`prompt_ms +
/// predicted_ms`): the difference is what the client adds. The server is started in the
/// background from a scratch home over the installed model, by the `airlock` binary given.
struct ModelBench {
    /// The installed model store (`AIRLOCK_MODEL_HOME`).
    var modelHome: URL?
    /// The `airlock` binary that supervises the server.
    var airlock: URL?
    /// Timed requests.
    var requests = 10
    /// Tokens generated per request.
    var maxTokens = 128

    func run(scratch: URL) async throws -> [Row] {
        guard let modelHome,
            FileManager.default.fileExists(atPath: modelHome.appendingPathComponent("models.lock").path)
        else { throw BenchError("no installed model (AIRLOCK_MODEL_HOME, airlock model install)") }
        guard let airlock else { throw BenchError("no airlock binary given (--airlock PATH)") }
        // A short path: the server's socket lives under it, and a unix socket path holds 107 bytes.
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "airlock-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let home = AirlockHome(root: root, modelDirectory: modelHome)
        // The detached supervisor is `airlock` itself: it finds the home (its state file, its
        // log) and the model store from the environment it inherits.
        setenv("AIRLOCK_HOME", root.path, 1)
        setenv("AIRLOCK_MODEL_HOME", modelHome.path, 1)
        let background = ModelBackground(
            stateFile: home.modelServerState, logFile: home.modelServerLog, executable: airlock)
        defer {
            _ = background.stop()
            try? FileManager.default.removeItem(at: root)
        }
        let store = home.modelStore
        let lock = try ModelLock.load(store.lockFile)
        let server = ModelServer(
            store: store, lock: lock, model: lock.defaultModel, runtimeDirectory: home.modelRuntime)
        let state = try background.ensureRunning(server) { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
        let client = try OpenAIChatClient(endpoint: server.endpoint)
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: "You are a helpful assistant."),
                ChatMessage(role: .user, content: "List the numbers from 1 to 300, separated by commas."),
            ], temperature: 0, maxTokens: maxTokens, seed: 42)
        _ = try await client.complete(request)
        var ours: [Double] = []
        var theirs: [Double] = []
        var rates: [Double] = []
        for _ in 0..<max(1, requests) {
            let start = Stats.now()
            let response = try await client.complete(request)
            let wall = Stats.since(start) / 1e6
            guard let timings = response.serverTimings, let prompt = timings["prompt_ms"]?.doubleValue,
                let predicted = timings["predicted_ms"]?.doubleValue
            else { throw BenchError("the server reports no timings (llama-server's `timings` object)") }
            ours.append(wall)
            theirs.append(prompt + predicted)
            rates.append(timings["predicted_per_second"]?.doubleValue ?? 0)
        }
        return [
            Row(
                id: "model.client", what: "model client, \(maxTokens) tokens a request (median)",
                figure: Stats.median(ours), unit: "ms", anchor: Stats.median(theirs),
                anchorName: "llama-server's own timings", comparison: .overhead,
                note:
                    "\(state.model), confined; \(requests) requests; the server generates \(Format.number(Stats.median(rates))) tokens/s"
            )
        ]
    }
}
