import Testing

@testable import Policy

@Suite("Path normalisation")
struct PathNormalizerTests {
    let paths = PathNormalizer(workspace: "/workspace", maxLength: 64)

    @Test(
        "plain paths are put into the sandbox's view",
        arguments: [
            ("notes/a.md", "/workspace/notes/a.md"), ("./a.md", "/workspace/a.md"), ("/data//logs/", "/data/logs"),
            ("/workspace/./x", "/workspace/x"), ("%zz", "/workspace/%zz"),
        ])
    func normalises(raw: String, expected: String) {
        #expect(paths.normalize(raw) == .path(expected))
    }

    @Test(
        "tricks are refused with a reason",
        arguments: [
            ("../etc/passwd", "'..'"), ("/workspace/a/../b", "'..'"), ("a\u{0}b", "NUL"), ("a\nb", "control"),
            ("..\\x", "backslash"), ("%2e%2e/x", "percent"), ("~/x", "'~'"), ("", "empty"),
            (String(repeating: "a", count: 65), "longer"), ("../\u{301}x", "'..'"), ("/w/../\u{301}/x", "'..'"),
        ])
    func rejects(raw: String, reasonPart: String) {
        guard case .rejected(let reason) = paths.normalize(raw) else {
            Issue.record("\(raw.debugDescription) was accepted")
            return
        }
        #expect(reason.contains(reasonPart))
    }

    @Test("containment compares whole components")
    func within() {
        #expect(PathNormalizer.isWithin("/workspace/a", root: "/workspace"))
        #expect(PathNormalizer.isWithin("/workspace", root: "/workspace"))
        #expect(!PathNormalizer.isWithin("/workspace-evil/a", root: "/workspace"))
        #expect(PathNormalizer.isWithin("/anything", root: "/"))
        // A '/' followed by a combining mark is one Character, but still the separator byte.
        #expect(PathNormalizer.isWithin("/secrets/\u{301}x", root: "/secrets"))
        #expect(!PathNormalizer.isWithin("/secrets\u{301}/x", root: "/secrets"))
    }
}
