import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// `airlock secrets` and a real `airlock run` whose tool prints its secret: the model's
/// requests, the trace database's bytes and `trace export` hold no encoding of the value.
@Suite("airlock secrets (CLI)", .serialized)
struct SecretsCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }
    /// Has `&`, `/`-producing bytes and `+`-producing bytes, so every encoding differs.
    static let value = "Tr0ub4dor&3 horse?battery~staple>>"

    init() throws {
        home = try CLI.temporaryDirectory("airlock-secrets-home")
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: home.path)
    }

    /// Every form of the value that must never appear.
    static var encodings: [String] {
        let bytes = Array(value.utf8)
        let base64 = Data(bytes).base64EncodedString()
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        return [
            value, base64, base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_"),
            hex, hex.uppercased(),
            value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value,
        ]
    }

    @Test func setListRotateRemoveAndTheirExitCodes() throws {
        #expect(try CLI.run(["secrets", "set", "API_KEY"], environment: env, stdin: "first-value\n").status == 0)
        let again = try CLI.run(["secrets", "set", "API_KEY"], environment: env, stdin: "second-value\n")
        #expect(again.status == 64)
        #expect(again.stderr.contains("rotate API_KEY"))
        #expect(try CLI.run(["secrets", "set", "SHORT"], environment: env, stdin: "abc\n").status == 64)
        #expect(try CLI.run(["secrets", "set", "EMPTY"], environment: env, stdin: "\n").status == 64)
        #expect(try CLI.run(["secrets", "set", "1bad"], environment: env, stdin: "long-enough\n").status == 64)
        let rotated = try CLI.run(["secrets", "rotate", "API_KEY"], environment: env, stdin: "second-value")
        #expect(rotated.stdout.contains("version 2"))
        let list = try CLI.run(["secrets", "list", "--json"], environment: env)
        #expect(list.status == 0)
        let entries = try JSONParser().parse(list.stdout).arrayValue ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["version"] == .integer(2))
        #expect(!list.stdout.contains("second-value") && !list.stdout.contains("first-value"))
        #expect(try CLI.run(["secrets", "remove", "NOPE"], environment: env).status == 66)
        #expect(try CLI.run(["secrets", "rotate", "NOPE"], environment: env).status == 66)
        #expect(try CLI.run(["secrets", "remove", "API_KEY"], environment: env).status == 0)

        // A damaged store is reported with its path and exit 65.
        _ = try CLI.run(["secrets", "set", "API_KEY"], environment: env, stdin: "third-value")
        let store = home.appendingPathComponent("secrets/store.sealed")
        var bytes = try Data(contentsOf: store)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: store)
        let corrupt = try CLI.run(["secrets", "list"], environment: env)
        #expect(corrupt.status == 65)
        #expect(corrupt.stderr.contains(store.path))
    }

    /// A tool that prints its secret plain, base64 and hex; a second tool that looks for it; a third
    /// that declares a secret the store lacks.
    func registerTools() throws -> URL {
        let dir = home.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tools = [
            (
                "secret.leak", "leak.sh",
                """
                #!/bin/sh
                v=$(cat /run/secrets/DEMO_API_KEY) || exit 3
                echo "plain: $v"
                printf %s "$v" | base64 -w0; echo
                printf %s "$v" | od -An -tx1 | tr -d ' \\n'; echo
                env | grep -c Tr0ub4dor || true
                """, "secrets:\n  - name: DEMO_API_KEY\n"
            ),
            (
                "secret.peek", "peek.sh",
                """
                #!/bin/sh
                ls /run/secrets 2>&1 || true
                env
                """, ""
            ),
            ("secret.absent", "absent.sh", "#!/bin/sh\necho ran\n", "secrets:\n  - name: NOT_IN_STORE\n"),
        ]
        var manifests: [String] = []
        for (name, file, script, secrets) in tools {
            try Data(script.utf8).write(to: dir.appendingPathComponent(file))
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: dir.appendingPathComponent(file).path)
            let manifest = dir.appendingPathComponent(name + ".yaml")
            try """
            name: \(name)
            version: 1.0.0
            description: Secrets test tool.
            owner: tests@example.org
            executable:
              path: \(file)
              sha256: \(SHA256.hex(Array(script.utf8)))
            input:
              type: object
              additionalProperties: false
              properties: {}
            risk: low
            \(secrets)
            """.write(to: manifest, atomically: true, encoding: .utf8)
            manifests.append(manifest.path)
        }
        let added = try CLI.run(["tools", "add"] + manifests, environment: env)
        try #require(added.status == 0, "\(added.stderr)")
        try """
        airlock_policy: 1
        name: secrets-test
        rules:
          - {id: permit.secret-tools, effect: permit, when: {tools: [secret.leak, secret.peek, secret.absent]}, reason: "tests", tags: [maestro:L3]}
        """.write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let workflow = dir.appendingPathComponent("workflow.yaml")
        try """
        airlock_workflow: 1
        name: secrets-e2e
        description: Prints a secret to prove it never reaches the model or the trace.
        system_prompt: You test secrets.
        task: Call the tools.
        tools: [secret.leak, secret.peek, secret.absent]
        policy: policy.yaml
        approval: {mode: deny, pre_approved: []}
        """.write(to: workflow, atomically: true, encoding: .utf8)
        return workflow
    }

    @Test func aSecretPrintedByATool() throws {
        let workflow = try registerTools()
        let set = try CLI.run(["secrets", "set", "DEMO_API_KEY"], environment: env, stdin: Self.value + "\n")
        try #require(set.status == 0, "\(set.stderr)")
        let server = try ChatTestServer(replies: [
            .completion(calls: [("c1", "secret.leak", "{}")]),
            .completion(calls: [("c2", "secret.peek", "{}"), ("c3", "secret.absent", "{}")]),
            .completion(content: "done"),
        ])
        defer { server.stop() }
        let run = try CLI.run(
            ["run", workflow.path, "--model", "unix:" + server.path, "--run-id", "secrets-e2e", "--json"],
            environment: env)
        #expect(run.status == 0, "\(run.stderr)")

        // The model: three requests, the tool outputs redacted, the missing secret named.
        let requests = server.requests.map(\.canonicalString)
        #expect(requests.count == 3)
        let all = requests.joined(separator: "\n")
        for form in Self.encodings { #expect(!all.contains(form), "the model saw \(form)") }
        #expect(all.contains("plain: [secret:DEMO_API_KEY]"))
        #expect(!all.contains("DEMO_API_KEY\\n"), "secret.peek saw /run/secrets/DEMO_API_KEY")
        #expect(all.contains("secret NOT_IN_STORE"))
        #expect(all.contains("cannot access '/run/secrets'"))

        // The trace database's files, byte for byte.
        let names = try FileManager.default.contentsOfDirectory(atPath: home.path).filter {
            $0.hasPrefix("trace.sqlite")
        }
        #expect(!names.isEmpty)
        for name in names {
            let bytes = try Data(contentsOf: home.appendingPathComponent(name))
            for form in Self.encodings {
                #expect(bytes.range(of: Data(form.utf8)) == nil, "\(name) holds \(form)")
            }
        }

        // The export, and the redaction recorded on the call's event.
        let export = try CLI.run(["trace", "export", "secrets-e2e"], environment: env)
        #expect(export.status == 0, "\(export.stderr)")
        for form in Self.encodings { #expect(!export.stdout.contains(form), "the export holds \(form)") }
        #expect(export.stdout.contains(#""redactions":[{"count":3,"secret":"DEMO_API_KEY"}]"#))
        #expect(export.stdout.contains("NOT_IN_STORE"))
        #expect(try CLI.run(["trace", "verify", "secrets-e2e"], environment: env).status == 0)
        // A replay re-drives the redacted record and records the same redactions.
        let replay = try CLI.run(["replay", "secrets-e2e", "--workflow", workflow.path], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        // Re-executed, the calls get their secrets again; what they print is redacted before it is
        // compared with the record or shown, so the leaking call is the same as recorded.
        let again = try CLI.run(
            ["replay", "secrets-e2e", "--workflow", workflow.path, "--reexecute", "--json"], environment: env)
        for form in Self.encodings { #expect(!again.stdout.contains(form), "the re-execution shows \(form)") }
        let calls = try JSONParser().parse(again.stdout)["reexecution"]?["calls"]?.arrayValue ?? []
        let leak = calls.first { $0["ran_tool"]?.stringValue?.hasPrefix("secret.leak@") == true }
        #expect(leak?["same"] == .bool(true), "\(again.stdout)")
        #expect(leak?["output"]?.stringValue?.contains("plain: [secret:DEMO_API_KEY]") == true)

        // `last used` is recorded.
        let list = try CLI.run(["secrets", "list", "--json"], environment: env)
        let entry = try JSONParser().parse(list.stdout).arrayValue?.first
        #expect(entry?["last_used"]?.stringValue != nil)
    }

    @Test func toolsTestShowsAToolsSecretRedacted() throws {
        _ = try registerTools()
        let set = try CLI.run(["secrets", "set", "DEMO_API_KEY"], environment: env, stdin: Self.value + "\n")
        try #require(set.status == 0, "\(set.stderr)")
        for arguments in [["tools", "test", "secret.leak"], ["tools", "test", "secret.leak", "--json"]] {
            let result = try CLI.run(arguments, environment: env)
            #expect(result.status == 0, "\(result.stderr)")
            for form in Self.encodings { #expect(!result.stdout.contains(form), "\(arguments) shows \(form)") }
            #expect(result.stdout.contains("plain: [secret:DEMO_API_KEY]"), "\(result.stdout)")
        }
    }

    @Test func aTokenVerifiesOfflineAndItsKeyExports() throws {
        let key = try CLI.run(["secrets", "token-key", "--export"], environment: env)
        #expect(key.status == 0)
        #expect(key.stdout.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let keyFile = home.appendingPathComponent("token.pem")
        try key.stdout.write(to: keyFile, atomically: true, encoding: .utf8)
        let garbage = try CLI.run(["secrets", "token", "verify", "abc.def", "--key", keyFile.path], environment: env)
        #expect(garbage.status == 1)
        #expect(garbage.stderr.contains("invalid token"))
    }
}
