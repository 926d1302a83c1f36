import AirlockCore
import Foundation
import Sandbox
import Testing
import Tools
import Trace

@testable import Secrets

/// Declared secrets reach the declaring tool's call through the real sandbox, and nothing else.
@Suite(
    "Secret injection", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    )
)
final class SecretInjectionTests {
    let site: SecretsSite
    var home: URL { site.home }
    var store: SecretStore { site.store }
    var registry: ToolRegistry { site.registry }
    var secretsRoot: String { site.secretsRoot }
    /// Prints each delivered file reversed: the runner redacts the values themselves from what
    /// a tool prints, and the test must still see which value the tool got.
    static let script =
        "#!/bin/sh\nfor f in /run/secrets/*; do echo \"$f=$(rev < $f 2>/dev/null)\"; done\necho \"env=${LEGACY_KEY:-none}\"\n"

    init() throws {
        site = try SecretsSite("airlock-inject")
    }

    /// Registers `name` running ``script`` with `secrets` YAML appended to its manifest.
    func register(_ name: String, secrets: String) throws -> RegisteredTool {
        try site.register(name, script: Self.script, extra: secrets)
    }

    func runner() throws -> ToolRunner {
        ToolRunner(
            registry: registry,
            secrets: try SecretBroker(store: store, keysDirectory: home.appendingPathComponent("keys")),
            secretsRoot: secretsRoot)
    }
    @Test func onlyTheDeclaringToolSeesItAndRotationTakesEffectAtTheNextCall() async throws {
        try store.set("REPORTS_DB_PASSWORD", value: Array("first-password".utf8))
        try store.set("LEGACY_KEY", value: Array("legacy-value".utf8))
        let holder = try register("demo.holder", secrets: "secrets:\n  - name: REPORTS_DB_PASSWORD\n")
        let other = try register("demo.other", secrets: "")
        let legacy = try register(
            "demo.legacy", secrets: "secrets:\n  - {name: LEGACY_KEY, as: env, env: LEGACY_KEY}\n")
        let runner = try runner()
        let context = ToolRunContext(workspace: nil)

        let first = try await runner.run(holder, arguments: [:], context: context)
        #expect(
            first.output == "/run/secrets/REPORTS_DB_PASSWORD=\(String("first-password".reversed()))\nenv=none\n",
            "\(first.record.stderr.text)"
        )
        let second = try await runner.run(other, arguments: [:], context: context)
        #expect(second.output == "/run/secrets/*=\nenv=none\n")
        let env = try await runner.run(legacy, arguments: [:], context: context)
        #expect(env.output == "/run/secrets/*=\nenv=[secret:LEGACY_KEY]\n")

        try store.rotate("REPORTS_DB_PASSWORD", value: Array("second-password".utf8))
        let third = try await runner.run(holder, arguments: [:], context: context)
        #expect(third.output.contains("=\(String("second-password".reversed()))\n"))
        #expect(try store.list().first { $0.name == "REPORTS_DB_PASSWORD" }?.lastUsed != nil)
        let left = try FileManager.default.contentsOfDirectory(atPath: secretsRoot)
        #expect(left.isEmpty, "per-call directories left behind: \(left)")
    }

    @Test func aMissingSecretFailsTheCallNamingSecretAndTool() async throws {
        try store.set("SOMETHING_ELSE", value: Array("long enough".utf8))
        let tool = try register("demo.needy", secrets: "secrets:\n  - name: NOT_THERE\n")
        let error = try await #require(throws: ToolsError.self) {
            _ = try await runner().run(tool, arguments: [:], context: ToolRunContext(workspace: nil))
        }
        #expect(error.code == .secretUnavailable)
        #expect(error.description.contains("NOT_THERE") && error.description.contains("demo.needy"))
        let none = try await #require(throws: ToolsError.self) {
            _ = try await ToolRunner(registry: registry).run(
                tool, arguments: [:], context: ToolRunContext(workspace: nil))
        }
        #expect(none.message.contains("no secret store"))
    }

    @Test func aTokenIsMintedForTheCallAndRedacted() async throws {
        try store.set("TICKETS_API", value: Array("long-lived-api-key".utf8))
        let tool = try register(
            "demo.tickets",
            secrets: "secrets:\n  - {name: TICKETS_API, as: token, audience: tickets, ttl_seconds: 120}\n")
        let broker = try SecretBroker(store: store, keysDirectory: home.appendingPathComponent("keys"))
        let runner = ToolRunner(registry: registry, secrets: broker)
        let call = ToolCallIdentity(runID: "run-7", argumentsDigest: String(repeating: "b", count: 64))
        let result = try await runner.run(tool, arguments: [:], context: ToolRunContext(workspace: nil), call: call)
        let line = try #require(result.output.split(separator: "\n").first)
        let compact = String(line.dropFirst("/run/secrets/TICKETS_API=".count).reversed())
        #expect(!result.output.contains("long-lived-api-key"))
        let issuer = try #require(try TokenIssuer.load(keysDirectory: home.appendingPathComponent("keys")))
        guard
            case .valid(let claims) = TokenVerifier(publicKey: issuer.key.publicKey).verify(
                compact, audience: "tickets")
        else {
            Issue.record("the delivered token does not verify: \(compact)")
            return
        }
        #expect(claims.runID == "run-7" && claims.tool == "demo.tickets@1.0.0")
        #expect(claims.argumentsDigest == call.argumentsDigest)
        #expect(claims.expiresAt - claims.issuedAt == 120)
        #expect(broker.redactor.redacted(compact) == "[secret:TICKETS_API]")
    }

    @Test func manifestDeclarationsAreCheckedWithPointers() {
        let base = """
            name: demo.bad
            version: 1.0.0
            description: d
            owner: o
            executable: {path: x, sha256: \(String(repeating: "a", count: 64))}
            input: {type: object}
            risk: low
            """
        let cases = [
            ("secrets:\n  - {name: 1bad}\n", "/secrets/0/name"),
            ("secrets:\n  - {name: A_B, as: pigeon}\n", "/secrets/0/as"),
            ("secrets:\n  - {name: A_B, as: env}\n", "/secrets/0"),
            ("secrets:\n  - {name: A_B, as: token, ttl_seconds: 7200}\n", "/secrets/0/ttl_seconds"),
            ("secrets:\n  - {name: A_B, audience: x}\n", "/secrets/0/audience"),
            ("secrets:\n  - {name: A_B}\n  - {name: A_B}\n", "/secrets/1/name"),
        ]
        for (yaml, pointer) in cases {
            do {
                _ = try ManifestDecoder().decode(text: base + "\n" + yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.problems.contains { $0.pointer == pointer }, "\(yaml): \(error.problems)")
            }
        }
    }
}
