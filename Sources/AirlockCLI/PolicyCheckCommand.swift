import AirlockCore
import ArgumentParser
import Policy

/// `airlock policy check`: one decision for one proposed call.
///
/// Exit status: 0 allow, 1 deny, 2 ask (a person must approve), 65 malformed policy or call,
/// 66 missing file.
struct PolicyCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Decide one proposed tool call: exit 0 allow, 1 deny, 2 ask.",
        discussion: """
            CALL.json holds {tool, arguments, facts, workflow_allowed_tools, principal, context}; facts \
            are the tool's manifest facts (omit them for an unknown tool). CTX.json, if given, replaces \
            the call's context. Formats: docs/policy.md.
            """
    )

    /// Exit status for an `ask` decision.
    static let askExitCode = ExitCode(CommandExit.approvalRequired)

    @Option(name: .long, help: "The policy file (YAML).")
    var policy: String

    @Option(name: .long, help: "The proposed call (JSON).")
    var call: String

    @Option(name: .long, help: "The run context (JSON), replacing the call file's context.")
    var context: String?

    @Flag(name: .long, help: "Print the decision as JSON.")
    var json = false

    func run() async throws {
        let loaded = try PolicyFiles.loadPolicy(policy)
        var document = try parseJSON(call, what: "call file")
        if let context, case .object(var members) = document {
            members["context"] = try parseJSON(context, what: "context file")
            document = .object(members)
        }
        let input: PolicyInput
        do {
            input = try PolicyInput(json: document)
        } catch {
            PolicyFiles.report(error, file: context == nil ? call : "\(call) + \(context ?? "")")
            throw ExitCode.dataError
        }
        let decision = loaded.evaluate(input)
        print(json ? decision.json.prettyString : decision.text)
        switch decision.effect {
        case .allow: return
        case .deny: throw ExitCode.checkFailed
        case .ask: throw Self.askExitCode
        }
    }

    private func parseJSON(_ path: String, what: String) throws -> JSONValue {
        let text = try PolicyFiles.read(path, what: what)
        do {
            return try JSONParser().parse(text)
        } catch {
            printError("airlock: \(path): \(what) is not valid JSON: \(error)")
            throw ExitCode.dataError
        }
    }
}
