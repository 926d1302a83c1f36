import Foundation
import Testing

/// A secret the model spells with JSON escapes in its raw argument text reaches neither the
/// trace nor the terminal: `airlock run` with a real store, then `trace show`.
@Suite("redaction of the model's raw text (CLI)", .serialized)
struct RedactionCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }
    static let secret = "hunter2-Secret-Value"

    init() throws {
        home = try SampleSite.make("airlock-redact-home")
        let set = try CLI.run(["secrets", "set", "DEMO_SECRET"], environment: env, stdin: Self.secret)
        try #require(set.status == 0, "\(set.stderr)")
    }

    @Test func aSecretSpelledWithEscapesInRawArgumentsIsRedacted() throws {
        let script = home.appendingPathComponent("leaky.yaml")
        // Single-quoted YAML keeps the backslashes: the model's text is `\u0068unter2-…`.
        try Data(
            #"""
            responses:
              - tool_calls:
                  - {name: logs.search, arguments: '{"pattern": "\u0068unter2-Secret-Valu\u0065"}'}
              - content: "done"
            """#.utf8
        ).write(to: script)
        let result = try CLI.run(
            [
                "run", SampleSite.root.appendingPathComponent("manifests/workflows/log-triage.yaml").path, "--model",
                "script:" + script.path,
            ], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("unter2-Secret-Valu"), "\(result.stderr)")
        let runLine = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("run: ") })
        let runID = String(runLine.dropFirst(5).prefix { $0 != " " })
        for format in [["--json"], []] {
            let show = try CLI.run(["trace", "show", runID] + format, environment: env)
            #expect(show.status == 0, "\(show.stderr)")
            #expect(!show.stdout.contains("unter2-Secret-Valu"), "\(show.stdout)")
            #expect(show.stdout.contains("[secret:DEMO_SECRET]"))
        }
        let verify = try CLI.run(["trace", "verify", runID], environment: env)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
