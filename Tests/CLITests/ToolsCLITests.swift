import AirlockCore
import Foundation
import Testing

/// `airlock tools …` end to end: the built binary, a temporary AIRLOCK_HOME, real files.
@Suite("airlock tools (CLI)", .serialized)
struct ToolsCLITests {
    let home: URL
    let dir: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    static let script = "#!/bin/sh\necho \"args: $*\"\nexit \"${EXIT:-0}\"\n"
    static var scriptSHA: String { SHA256.hex(Array(script.utf8)) }

    init() throws {
        home = try CLI.temporaryDirectory("airlock-home")
        dir = try CLI.temporaryDirectory("airlock-tool")
        try write(Self.script, "run.sh", mode: 0o755)
    }

    @discardableResult
    func write(_ text: String, _ name: String, mode: Int = 0o644) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    func manifest(version: String = "1.0.0", pin: String? = scriptSHA, exit: Int = 0) -> String {
        """
        name: demo.run
        version: \(version)
        description: Prints its arguments.
        owner: tests@example.org
        executable:
          path: run.sh
        \(pin.map { "  sha256: \($0)" } ?? "")
        argv:
          - {option: --n, arg: n}
          - "--"
          - {arg: words}
        environment: {EXIT: "\(exit)"}
        input:
          type: object
          additionalProperties: false
          properties:
            words: {type: array, items: {type: string}}
            n: {type: integer, maximum: 9}
        risk: low
        threats: ["asi:02"]
        """
    }

    @Test func lintReportsEveryProblemWithPathAndLine() throws {
        let good = try write(manifest(), "good.yaml")
        let ok = try CLI.run(["tools", "lint", good], environment: env)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("ok (demo.run@1.0.0)"))
        let bad = try write("name: x\nversion: 1\nrisk: none\nsurprise: 1\n", "bad.yaml")
        let result = try CLI.run(["tools", "lint", bad], environment: env)
        #expect(result.status == 65)
        #expect(result.stdout.contains("/name (line 1): must be lowercase dotted segments"))
        #expect(result.stdout.contains("/version (line 2): must be a string, not integer"))
        #expect(result.stdout.contains("/risk (line 3): must be one of low, medium, high, critical"))
        #expect(result.stdout.contains("/surprise (line 4): unknown field \"surprise\""))
        #expect(result.stdout.contains("(root) (line 1): missing required field \"executable\""))
    }

    @Test func addListShowAndRemove() throws {
        let file = try write(manifest(), "demo.yaml")
        let added = try CLI.run(["tools", "add", file], environment: env)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout == "added demo.run@1.0.0 (revision 1)\n")
        #expect(try CLI.run(["tools", "add", file], environment: env).stdout.contains("unchanged demo.run@1.0.0"))

        let list = try CLI.run(["tools", "list", "--json"], environment: env)
        let tools = try JSONParser().parse(list.stdout)
        #expect(tools.arrayValue?.count == 1)
        #expect(tools.arrayValue?.first?["name"] == "demo.run")

        let show = try CLI.run(["tools", "show", "demo.run@1.0.0", "--json"], environment: env)
        #expect(show.status == 0)
        let detail = try JSONParser().parse(show.stdout)
        #expect(detail["facts"]?["pinned_digest"] == .string(Self.scriptSHA))
        #expect(detail["facts"]?["risk"] == "low")
        #expect(detail["modelTool"]?["function"]?["name"] == "demo.run")
        #expect(
            try CLI.run(["tools", "show", "demo.run"], environment: env).stdout.contains(
                "argv:        --n=<n> -- <words>"))

        #expect(try CLI.run(["tools", "remove", "demo.run"], environment: env).stdout == "retired demo.run\n")
        #expect(try CLI.run(["tools", "list"], environment: env).stdout.contains("no tools registered"))
        #expect(try CLI.run(["tools", "list", "--all"], environment: env).stdout.contains("retired"))
        let gone = try CLI.run(["tools", "test", "demo.run"], environment: env)
        #expect(gone.status == 66)
        #expect(gone.stderr.contains("retired"))
    }

    @Test func aBadManifestRegistersNothing() throws {
        let good = try write(manifest(), "good.yaml")
        let bad = try write(manifest(pin: String(repeating: "ab", count: 32)), "bad.yaml")
        let result = try CLI.run(["tools", "add", good, bad], environment: env)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "has sha256 \(Self.scriptSHA) but the manifest pins \(String(repeating: "ab", count: 32))"))
        #expect(result.stderr.contains("nothing registered"))
        #expect(
            try CLI.run(["tools", "list", "--json"], environment: env).stdout.trimmingCharacters(
                in: .whitespacesAndNewlines) == "[]")
    }

    @Test func pinWritesTheDigestIntoTheManifest() throws {
        let file = try write(manifest(pin: nil), "unpinned.yaml")
        #expect(try CLI.run(["tools", "add", file], environment: env).status == 65)
        let result = try CLI.run(["tools", "add", "--pin", file], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pinned"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains("  sha256: \(Self.scriptSHA)\n"))
    }

    @Test func testRunsTheToolAndExitsWithItsCode() throws {
        #expect(try CLI.run(["tools", "add", write(manifest(), "demo.yaml")], environment: env).status == 0)
        let ok = try CLI.run(
            ["tools", "test", "demo.run", "--args", #"{"words": ["-rf", "x"], "n": 3}"#], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("args: --n=3 -- -rf x"))
        #expect(ok.stdout.contains("result:    exited 0"))

        #expect(
            try CLI.run(["tools", "add", write(manifest(version: "1.1.0", exit: 3), "demo.yaml")], environment: env)
                .status == 0)
        let json = try CLI.run(["tools", "test", "demo.run", "--args", "{}", "--json"], environment: env)
        #expect(json.status == 3)
        let document = try JSONParser().parse(json.stdout)
        #expect(document["exitCode"] == 3)
        #expect(document["tool"] == "demo.run@1.1.0")
        #expect(document["record"]?["termination"]?["exitCode"] == 3)

        let old = try CLI.run(["tools", "test", "demo.run@1.0.0"], environment: env)
        #expect(old.status == 0)
    }

    @Test func testExitCodesForRefusals() throws {
        #expect(try CLI.run(["tools", "add", write(manifest(), "demo.yaml")], environment: env).status == 0)
        let invalid = try CLI.run(["tools", "test", "demo.run", "--args", #"{"n": 10, "x": 1}"#], environment: env)
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("/n: must be at most 9"))
        #expect(invalid.stderr.contains("/x: is not an allowed property"))
        #expect(try CLI.run(["tools", "test", "demo.run", "--args", "{"], environment: env).status == 65)
        #expect(try CLI.run(["tools", "test", "no.such"], environment: env).status == 66)

        let object = home.appendingPathComponent("tools/objects/\(Self.scriptSHA)")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: object.path)
        try Data("#!/bin/sh\necho pwned\n".utf8).write(to: object)
        let drift = try CLI.run(["tools", "test", "demo.run"], environment: env)
        #expect(drift.status == 1)
        #expect(drift.stderr.contains("registered pin is \(Self.scriptSHA)"))
        #expect(drift.stderr.contains(SHA256.hex(Array("#!/bin/sh\necho pwned\n".utf8))))
        #expect(!drift.stdout.contains("pwned"))
    }
}
