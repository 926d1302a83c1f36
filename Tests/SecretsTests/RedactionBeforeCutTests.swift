import AirlockCore
import Foundation
import Sandbox
import Testing
import Tools

@testable import Secrets

/// A tool's output reaches its caller redacted before any cut, through the real sandbox: a
/// secret straddling the output cap or the start of the stderr tail keeps no part, and a secret
/// a tool prints with `json.dumps` is found in either of its escaped forms.
@Suite(
    "Redaction before the cut", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    )
)
final class RedactionBeforeCutTests {
    let site: SecretsSite
    /// A secret with a quote, a backslash and a non-ASCII letter, as a password can be.
    static let secret = #"pa"ss\wörd-4242"#

    init() throws {
        site = try SecretsSite("airlock-cut")
        try site.store.set("API_KEY", value: Array(Self.secret.utf8))
    }

    /// Registers `name` running `script` with the secret delivered as /run/secrets/API_KEY.
    func register(_ name: String, script: String, maxBytes: Int) throws -> RegisteredTool {
        try site.register(name, script: script, extra: "output: {maxBytes: \(maxBytes)}\nsecrets:\n  - name: API_KEY")
    }

    func run(_ tool: RegisteredTool) async throws -> ToolRunResult {
        try await ToolRunner(registry: site.registry, secrets: site.broker(), secretsRoot: site.secretsRoot)
            .run(tool, arguments: [:], context: ToolRunContext(workspace: nil))
    }

    /// Whether `text` holds any 4-byte piece of the secret.
    static func leaks(_ text: String) -> Bool {
        let bytes = Array(secret.utf8)
        let haystack = Data(text.utf8)
        return (0...(bytes.count - 4)).contains { i in haystack.range(of: Data(bytes[i..<i + 4])) != nil }
    }

    @Test func aSecretStraddlingTheOutputCapOrTheStderrTailKeepsNoPart() async throws {
        // stdout: 4090 bytes, then the secret across the 4096-byte cap; stderr: the secret, then
        // 2040 bytes, so that the 2 KiB tail starts inside it; then the tool fails.
        let tool = try register(
            "demo.straddle",
            script: """
                #!/bin/sh
                head -c 4090 /dev/zero | tr '\\0' x; cat /run/secrets/API_KEY; echo
                cat /run/secrets/API_KEY >&2; head -c 2040 /dev/zero | tr '\\0' e >&2
                exit 3
                """, maxBytes: 4096)
        let result = try await run(tool)
        #expect(result.exitCode == 3, "\(result.record.stderr.text)")
        #expect(result.outputTruncated)
        #expect(result.output.hasPrefix(String(repeating: "x", count: 4090)))
        #expect(result.output.utf8.count <= 4096)
        #expect(!Self.leaks(result.output), "\(result.output.suffix(20).debugDescription)")
        #expect(!Self.leaks(result.record.stdout.text))
        #expect(!Self.leaks(result.record.stderr.text))
        #expect(result.stderrTail.utf8.count <= ToolRunner.stderrTailBytes)
        #expect(result.stderrTail.hasSuffix(String(repeating: "e", count: 2040)))
        #expect(!Self.leaks(result.stderrTail), "\(result.stderrTail.prefix(20).debugDescription)")
    }

    @Test func aSecretPrintedByJsonDumpsIsFoundInBothEscapedForms() async throws {
        let tool = try register(
            "demo.dumps",
            script: """
                #!/bin/sh
                exec python3 -c 'import json; v = open("/run/secrets/API_KEY").read(); print(json.dumps({"k": v})); print(json.dumps({"k": v}, ensure_ascii=False))'
                """, maxBytes: 4096)
        let result = try await run(tool)
        #expect(result.exitCode == 0, "\(result.record.stderr.text)")
        #expect(result.output == "{\"k\": \"[secret:API_KEY]\"}\n{\"k\": \"[secret:API_KEY]\"}\n")
    }
}

/// The redactor's own rules for cuts and escapes, on text.
@Suite("Secret redactor: cuts and escapes")
struct SecretRedactorCutTests {
    static let secret = #"pa"ss\wörd-4242"#
    let redactor = SecretRedactor(values: ["API_KEY": Array(secret.utf8)])

    @Test func aCutTailThatStartsASecretIsMasked() {
        let captured = String(repeating: "x", count: 20) + #"pa"ss\w"#
        let (kept, truncated) = redactor.redactedPrefix(captured, maxBytes: 100, cut: true)
        #expect(truncated)
        #expect(kept == String(repeating: "x", count: 20) + "[secret:API_KEY]")
        // Not at a cut, the same text is data, not a partial secret.
        #expect(redactor.redactedPrefix(captured, maxBytes: 100).text == captured)
        // A cut inside the marker drops the marker rather than keep half of it.
        let whole = String(repeating: "x", count: 20) + Self.secret + "tail"
        #expect(redactor.redactedPrefix(whole, maxBytes: 25).text == String(repeating: "x", count: 20))
        #expect(redactor.redactedSuffix(Self.secret + "tail", maxBytes: 8) == "tail")
    }

    @Test func jsonEscapedFormsAndModelEscapesAreFound() throws {
        let ascii = #"pa\"ss\\w\u00f6rd-4242"#
        let upper = #"pa\"ss\\w\u00F6rd-4242"#
        let minimal = #"pa\"ss\\wörd-4242"#
        for form in [ascii, upper, minimal] {
            #expect(redactor.redact("{\"k\": \"\(form)\"}").text == #"{"k": "[secret:API_KEY]"}"#, "\(form)")
        }
        // A model's raw argument text can escape any character it likes; the redactor reads it
        // as JSON and keeps the document JSON.
        let raw = #"{"q": "\u0070a\"ss\\w\u00f6r\u0064-4242", "n": 1}"#
        let clean = redactor.redacted(raw)
        #expect(try JSONParser().parse(clean) == ["q": "[secret:API_KEY]", "n": 1])
        // Not JSON: the unescaped reading, redacted.
        #expect(redactor.redacted(#"oops {"q": "\u0070a\"ss\\wörd-4242"#) == #"oops {"q": "[secret:API_KEY]"#)
        #expect(redactor.redacted(#"C:\path\n"#) == #"C:\path\n"#)
    }
}
