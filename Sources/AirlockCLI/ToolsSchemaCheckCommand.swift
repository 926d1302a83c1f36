import AirlockCore
import ArgumentParser
import Foundation
import Tools

/// `airlock tools schema-check CORPUS.json`: validates a corpus of schemas and instances with
/// Airlock's validator and prints the verdicts as JSON. Hidden: `tools/schema-diff` uses it to
/// compare the validator with Python's `jsonschema`.
struct ToolsSchemaCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema-check",
        abstract: "Validate a corpus [{\"schema\", \"instances\"}] and print verdicts (used by tools/schema-diff).",
        shouldDisplay: false)

    @Argument(help: "A JSON file: an array of {\"schema\": …, \"instances\": […]}.")
    var corpus: String

    func run() throws {
        let cases: [JSONValue]
        do {
            let data = try Data(contentsOf: ToolsCLI.url(corpus))
            guard case .array(let items) = try JSONParser().parse(Array(data)) else {
                throw ToolsError(.invalidManifest, "\(corpus): must be a JSON array")
            }
            cases = items
        } catch {
            printError("error: \(corpus): \(error)")
            throw ExitCode.dataError
        }
        var out: [JSONValue] = []
        for (index, item) in cases.enumerated() {
            let instances = item["instances"]?.arrayValue ?? []
            switch JSONSchema.compile(item["schema"] ?? .bool(true)) {
            case .failure(let failure):
                out.append([
                    "case": .integer(Int64(index)), "compiled": false,
                    "problems": .array(failure.problems.map { .string($0.description) }),
                ])
            case .success(let schema):
                let results = instances.map { instance -> JSONValue in
                    let problems = schema.validate(instance)
                    return [
                        "valid": .bool(problems.isEmpty), "problems": .array(problems.map { .string($0.description) }),
                    ]
                }
                out.append(["case": .integer(Int64(index)), "compiled": true, "results": .array(results)])
            }
        }
        print(JSONValue.array(out).prettyString)
    }
}
