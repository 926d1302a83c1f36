import AirlockCore
import Foundation
import Runs

/// What `airlock mcp serve --profile NAME` serves: a named profile, `AIRLOCK_HOME/mcp/NAME.yaml`
/// (or a file given by path), read whole by this one type:
///
/// ```yaml
/// airlock_mcp_profile: 1
/// name: dataset-analyst
/// workflow: ../../manifests/workflows/dataset-report.yaml  # tools, policy, role, budgets, approval
/// principal: ana                                          # the person the MCP client acts for
/// parameters:                                             # the workflow's task parameters
///   question: questions from an MCP client
/// ```
///
/// The workflow names which tools are served and which policy judges them (a profile does not
/// widen or narrow them: it is the very workflow a reviewer can lint, dry-run and replay); the
/// profile adds who the session acts for. A relative `workflow` is taken from the profile's
/// directory. Unknown keys are errors, as in every Airlock document.
public struct MCPProfile: Sendable, Hashable {
    /// The top-level keys a profile may have.
    public static let keys = ["airlock_mcp_profile", "name", "workflow", "principal", "parameters"]
    /// The one format version this Airlock reads.
    public static let formatVersion: Int64 = 1

    /// The profile's name.
    public var name: String
    /// The workflow file (absolute).
    public var workflow: URL
    /// The person every session of this profile acts for (the runs' principal).
    public var principal: String
    /// The workflow's task parameters, as text.
    public var parameters: [String: String]
    /// The profile file.
    public var path: URL

    /// The profile a `--profile` value names: a path (it holds `/` or ends in `.yaml`) or a name
    /// under `AIRLOCK_HOME/mcp/`.
    /// - Parameters:
    ///   - reference: the value given.
    ///   - home: the Airlock home's root.
    ///   - base: where a relative path is taken from.
    /// - Throws: ``RunsError`` `usage` (not a name), `not-found`, `invalid-input`.
    public static func resolve(_ reference: String, home: URL, base: URL) throws(RunsError) -> MCPProfile {
        let url: URL
        if reference.contains("/") || reference.hasSuffix(".yaml") {
            url = URL(fileURLWithPath: reference, relativeTo: base).standardizedFileURL
        } else {
            guard isName(reference) else {
                throw RunsError(
                    .usage,
                    "--profile \(reference): a profile name is letters, digits, '.', '_' or '-' (or give a path)")
            }
            url = home.appendingPathComponent("mcp").appendingPathComponent(reference + ".yaml")
        }
        return try load(url)
    }

    /// Whether `text` can name a profile file under the home.
    static func isName(_ text: String) -> Bool {
        !text.isEmpty && !text.hasPrefix(".") && text.utf8.count <= 128
            && text.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)
            }
    }

    /// Reads the profile at `url`.
    /// - Throws: ``RunsError`` `not-found` (no file, or no workflow file where it points),
    ///   `invalid-input` listing every problem with its JSON pointer and line.
    public static func load(_ url: URL) throws(RunsError) -> MCPProfile {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RunsError(.notFound, "no MCP profile at \(url.path)")
        }
        let profile = try parse(String(decoding: data, as: UTF8.self), at: url)
        guard FileManager.default.fileExists(atPath: profile.workflow.path) else {
            throw RunsError(.notFound, "\(url.path): /workflow: no workflow file at \(profile.workflow.path)")
        }
        return profile
    }

    /// Parses the text of the profile file at `url`.
    /// - Throws: ``RunsError`` `invalid-input` listing every problem.
    public static func parse(_ text: String, at url: URL) throws(RunsError) -> MCPProfile {
        let document = try DocumentReader.parse(text) {
            RunsError(.invalidInput, "\(url.path): not valid YAML", problems: $0)
        }
        var reader = DocumentReader(document)
        let members = reader.object(
            document.value, at: "", allowed: keys, required: ["name", "workflow", "principal"])?
            .members
        if let members, members["airlock_mcp_profile"]?.integerValue != formatVersion {
            reader.fail("/airlock_mcp_profile", "must be \(formatVersion)")
        }
        func required(_ key: String) -> String {
            members?[key].flatMap { reader.string($0, at: "/\(key)") } ?? ""
        }
        let name = required("name")
        let workflow = required("workflow")
        let principal = required("principal")
        if !name.isEmpty, !isName(name) { reader.fail("/name", "must be letters, digits, '.', '_' or '-'") }
        var parameters: [String: String] = [:]
        if let given = members?["parameters"], let entries = reader.object(given, at: "/parameters", allowed: nil) {
            for key in entries.members.keys.sorted() {
                switch entries.members[key] {
                case .string(let value): parameters[key] = value
                case .integer(let value): parameters[key] = String(value)
                case .number(let value): parameters[key] = JSONValue.number(value).canonicalString
                case .bool(let value): parameters[key] = value ? "true" : "false"
                default: reader.fail(entries.pointer(key), "must be a string, number or boolean")
                }
            }
        }
        guard reader.isEmpty else {
            let problems = reader.problems.lines
            throw RunsError(
                .invalidInput,
                "\(url.path): \(problems.count) problem(s)\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
        }
        let directory = url.deletingLastPathComponent()
        return MCPProfile(
            name: name, workflow: URL(fileURLWithPath: workflow, relativeTo: directory).standardizedFileURL,
            principal: principal, parameters: parameters, path: url)
    }
}
