import Agent
import AirlockCore
import Foundation
import MCP
import MCPTools
import Model
import Runs
import Secrets
import Synchronization
import Trace

/// `airlock mcp serve`: one MCP session over a transport, served as one run of a profile's
/// workflow. The run is assembled by ``Runs/RunConstructor`` with an ``MCPSessionDriver`` in the
/// model's place, so every `tools/call` goes the loop's way: schema, policy, approval (the
/// home's approvals queue), the sandbox, the trace. A refusal is an MCP tool error
/// (`isError: true`) whose text names the rules and their reasons.
public struct MCPToolServer: Sendable {
    /// The MCP specification revision served (the SDK's latest, which it negotiates down from
    /// when a client asks for an older one it supports).
    public static let revision = Version.latest

    /// The profile served.
    public let profile: MCPProfile
    /// The assembled run.
    public let prepared: PreparedRun
    /// The run's proposer.
    public let driver: MCPSessionDriver
    /// Where an approval is asked of the client's user, beside the approvals queue.
    let elicitation: MCPElicitationPrompt
    /// What the run is cancelled with when the client leaves a call unanswered.
    let cancellation: TaskCancellation
    /// The trace the run is recorded in.
    let store: TraceStore
    let key: TraceSigningKey

    /// Assembles the run of one session of `profile`, recording nothing yet.
    /// - Parameters:
    ///   - profile: what is served.
    ///   - home: the Airlock home.
    ///   - transport: the transport's name, recorded as the model (`stdio`).
    ///   - prompt: where an approval request is announced besides the approvals queue (and the
    ///     client's elicitation, when it supports it).
    ///   - cancellation: what the front door cancels the run with.
    ///   - runID: the run id, or `nil` for a new one.
    /// - Throws: ``Runs/RunsError`` as ``Runs/RunConstructor/live(_:announce:)``.
    public init(
        profile: MCPProfile, home: AirlockHome, transport: String, prompt: (any ApprovalPrompt)?,
        cancellation: TaskCancellation, runID: String? = nil
    ) throws(RunsError) {
        let driver = MCPSessionDriver(transport: transport)
        let elicitation = MCPElicitationPrompt(notice: prompt, principal: profile.principal)
        let constructor = RunConstructor(home: home)
        let request = RunRequest(
            workflow: profile.workflow, parameters: profile.parameters, runID: runID, principal: profile.principal,
            prompt: elicitation, base: profile.path.deletingLastPathComponent(), cancellation: cancellation,
            driver: driver)
        (store, key) = try constructor.trace()
        self.prepared = try constructor.live(request)
        self.profile = profile
        self.driver = driver
        self.elicitation = elicitation
        self.cancellation = cancellation
    }

    /// The tools offered: the workflow's, with the manifests' descriptions and input schemas.
    /// - Throws: ``Runs/RunsError`` `invalid-input` for a workflow tool that is not registered,
    ///   `state` when the registry cannot be read.
    public func tools() throws(RunsError) -> [Tool] {
        do throws(AgentError) {
            return try prepared.loop.resolveTools().map { tool in
                let manifest = tool.manifest
                return Tool(
                    name: manifest.name, description: manifest.description,
                    inputSchema: MCPJSON.value(manifest.input.document))
            }
        } catch {
            throw RunsError(
                error.code == .invalidWorkflow ? .invalidInput : .state,
                "profile \(profile.name): [\(error.code.rawValue)] \(error)")
        }
    }

    /// Serves the session until the client closes it (or the task is cancelled), then ends the
    /// run and returns how it ended.
    /// - Parameters:
    ///   - transport: the MCP transport (stdio).
    ///   - progress: told about every step of the run.
    /// - Throws: ``Runs/RunsError`` as ``tools()``, `state` when the transport cannot be used or the run could not
    ///   be recorded.
    public func serve(
        over transport: any Transport, progress: @escaping @Sendable (AgentProgress) -> Void = { _ in }
    ) async throws(RunsError) -> AgentRunOutcome {
        let offered = try tools()
        let client = Mutex<JSONValue>(.null)
        let server = Server(
            name: "airlock", version: AirlockVersion.current, title: "Airlock (\(profile.name))",
            instructions:
                "Every call is judged by the site's policy, may wait for a person's approval, runs confined with no network, and is recorded in a signed trace.",
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: offered) }
        let driver = self.driver
        await server.withMethodHandler(CallTool.self) { params in
            let (name, arguments) = Self.bounded(name: params.name, arguments: MCPValue.text(params.arguments))
            let outcome = await driver.call(
                name, arguments: arguments, note: Self.note(params, client: client.withLock { $0 }))
            return CallTool.Result(
                content: [.text(text: outcome.content, annotations: nil, _meta: nil)],
                structuredContent: MCPValue.object(outcome.content).map(MCPJSON.value), isError: outcome.isError,
                _meta: Metadata(additionalFields: ["airlock/call_id": .string(outcome.callID)]))
        }
        let prepared = self.prepared
        let (store, key) = (self.store, self.key)
        let run = Task { () -> Result<AgentRunOutcome, AgentError> in
            do throws(AgentError) {
                let outcome = try await prepared.run(store: store, key: key) { event in
                    driver.observe(event)
                    progress(event)
                }
                driver.ended(
                    "the session's run \(outcome.runID) has ended (\(outcome.status.rawValue)): \(outcome.message)")
                return .success(outcome)
            } catch {
                driver.ended("the session's run could not go on: \(error)")
                return .failure(error)
            }
        }
        do {
            try await withTaskCancellationHandler {
                let elicitation = self.elicitation
                try await server.start(transport: transport) { info, capabilities in
                    let name = SecretRedactor.prefix(info.name, bytes: Self.maxClientFieldBytes)
                    let version = SecretRedactor.prefix(info.version, bytes: Self.maxClientFieldBytes)
                    client.withLock { $0 = ["name": .string(name), "version": .string(version)] }
                    elicitation.connect(server, client: name, elicits: capabilities.elicitation != nil)
                }
                await server.waitUntilCompleted()
            } onCancel: {
                run.cancel()
                Task { await server.stop() }
            }
        } catch {
            run.cancel()
            driver.close()
            _ = await run.value
            throw RunsError(.state, "the MCP \(driver.name) transport cannot be used", cause: error)
        }
        let unanswered = driver.close()
        if !unanswered.isEmpty {
            // No one will read these results: the call in flight is stopped (a tool killed, an
            // approval withdrawn) and the run ends as cancelled, saying why.
            cancellation.request(
                "the MCP client closed the session with \(unanswered.joined(separator: ", ")) unanswered")
            run.cancel()
        }
        let result = await run.value
        await server.stop()
        switch result {
        case .success(let outcome): return outcome
        case .failure(let error):
            throw RunsError(.state, "[\(error.code.rawValue)] \(error.message)", cause: error.cause)
        }
    }

    /// Serves the session over the process's stdin and stdout (which then carry the protocol
    /// and nothing else), as ``serve(over:progress:)``.
    public func serveStandardIO(
        progress: @escaping @Sendable (AgentProgress) -> Void = { _ in }
    ) async throws(RunsError) -> AgentRunOutcome {
        try await serve(over: StdioTransport(), progress: progress)
    }

    /// The longest tool name a call may give, in bytes (the MCP specification's own bound).
    public static let maxToolNameBytes = 128
    /// The largest arguments a call may give, as JSON text in bytes: well under the trace's
    /// largest event (1 MiB), so that a client cannot end the run by the size of one call.
    public static let maxArgumentBytes = 256 * 1024
    /// The longest client name or version recorded, in bytes.
    public static let maxClientFieldBytes = 256

    /// A call's name and arguments within the bounds: beyond them, a stand-in the loop refuses
    /// (an unknown tool, arguments that are not JSON) and records, saying what was withheld.
    static func bounded(name: String, arguments: String) -> (name: String, arguments: String) {
        let name =
            name.utf8.count > maxToolNameBytes
            ? "(a tool name of \(name.utf8.count) bytes, over \(maxToolNameBytes), withheld)" : name
        let arguments =
            arguments.utf8.count > maxArgumentBytes
            ? "withheld: the arguments were \(arguments.utf8.count) bytes, over the gateway's \(maxArgumentBytes)"
            : arguments
        return (name, arguments)
    }

    /// What the run records beside a call's proposal (its content): the MCP method, the client,
    /// and the request's `traceparent` when it is well-formed (or that one was refused).
    static func note(_ params: CallTool.Parameters, client: JSONValue) -> JSONValue {
        var mcp: [String: JSONValue] = ["method": .string(CallTool.name), "client": client]
        if let traceparent = params._meta?["traceparent"] {
            if let text = traceparent.stringValue, TraceParent.isValid(text) {
                mcp["traceparent"] = .string(text)
            } else {
                mcp["traceparent_refused"] = "not a W3C traceparent (00-<trace id>-<parent id>-<flags>)"
            }
        }
        return ["mcp": .object(mcp)]
    }
}
