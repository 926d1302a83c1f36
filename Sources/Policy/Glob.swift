import AirlockCore

/// A tool-name glob: `*` matches any run of characters (also none), `?` exactly one; everything
/// else matches itself, case-sensitively. Compiled once when the policy loads.
struct Glob: Sendable, Hashable {
    /// The pattern as written.
    let pattern: String
    private let bytes: [UInt8]

    init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    /// Whether `text` contains glob characters at all.
    static func isGlob(_ text: String) -> Bool { text.utf8.contains { $0 == 0x2A || $0 == 0x3F } }

    /// Whether `name` matches the whole pattern.
    func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { text in
            // Iterative matcher with one backtrack point per star: linear for these short names.
            var p = 0
            var t = 0
            var starP = -1
            var starT = 0
            while t < text.count {
                if p < bytes.count && (bytes[p] == 0x3F || bytes[p] == text[t]) && bytes[p] != 0x2A {
                    p += 1
                    t += 1
                } else if p < bytes.count && bytes[p] == 0x2A {
                    starP = p
                    starT = t
                    p += 1
                } else if starP >= 0 {
                    p = starP + 1
                    starT += 1
                    t = starT
                } else {
                    return false
                }
            }
            while p < bytes.count && bytes[p] == 0x2A { p += 1 }
            return p == bytes.count
        }
    }
}
