import Foundation
import Testing

@testable import Secrets

/// The redactor finds each secret in its common encodings and counts what it replaced.
@Suite("Secret redactor")
struct SecretRedactorTests {
    static let value = "p@ss w/rd+?~>>x"

    @Test func everyEncodingIsReplacedAndCounted() throws {
        let redactor = SecretRedactor(values: ["DB": Array(Self.value.utf8), "TINY": Array("abc".utf8)])
        let bytes = Array(Self.value.utf8)
        let base64 = Data(bytes).base64EncodedString()
        let url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let percent = try #require(Self.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let forms = [
            Self.value, base64, String(base64.prefix { $0 != "=" }), url, hex, hex.uppercased(), percent,
        ]
        let text = forms.map { "x=\($0);" }.joined(separator: "\n") + "\nabc stays"
        let (clean, counts) = redactor.redact(text)
        for form in forms { #expect(!clean.contains(form), "left \(form)") }
        #expect(counts == ["DB": forms.count])
        #expect(clean.contains("x=[secret:DB];"))
        #expect(clean.hasSuffix("abc stays"), "values below the minimum are not redacted")
        #expect(redactor.redacted("nothing here") == "nothing here")
    }

    @Test func theLongestFormWinsAndReplacementsAreNotScannedAgain() {
        let redactor = SecretRedactor(values: [
            "SHORT": Array("abcdef".utf8), "LONG": Array("abcdef-and-more".utf8), "WORD": Array("secret".utf8),
        ])
        let (text, counts) = redactor.redact("x abcdef-and-more y abcdef z")
        #expect(text == "x [secret:LONG] y [secret:SHORT] z")
        #expect(counts == ["LONG": 1, "SHORT": 1])
        #expect(redactor.redacted("ab") == "ab")
        #expect(redactor.redacted("a secret here") == "a [secret:WORD] here")
    }

    @Test func aValueAddedDuringTheRunIsRedactedFromThenOn() {
        let redactor = SecretRedactor()
        #expect(redactor.isEmpty)
        redactor.add(name: "TOKEN", value: "eyJhbGciOi.signature-part")
        #expect(redactor.redacted("Authorization: eyJhbGciOi.signature-part") == "Authorization: [secret:TOKEN]")
    }
}

/// Markers are counted the same in freshly redacted text and in text read back from a trace.
@Suite("Redaction markers")
struct RedactionMarkerTests {
    @Test func markersAreCountedByName() {
        let text = "a [secret:DB] b [secret:DB] [secret:TOKEN] [secret:not valid] [secret:"
        #expect(SecretRedactor.markers(in: text) == ["DB": 2, "TOKEN": 1])
        #expect(SecretRedactor.markers(in: "plain").isEmpty)
        // Around other text, brackets and non-ASCII characters, and back to back.
        let mixed = "[[secret:A]][secret:B][secret:A] é[secret:ÜBER] [secret:C"
        #expect(SecretRedactor.markers(in: mixed) == ["A": 2, "B": 1])
    }
}
