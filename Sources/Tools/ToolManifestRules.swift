import AirlockCore

/// The lexical rules for manifest fields: tool names, versions, labels, environment names.
public enum ToolManifestRules {
    /// `logs.search`: 2+ dot-separated segments, each `[a-z][a-z0-9_-]*`, at most 64 characters.
    public static func isToolName(_ name: String) -> Bool {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.utf8.count <= 64, segments.count >= 2 else { return false }
        return segments.allSatisfy { segment in
            guard let first = segment.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
            return segment.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
        }
    }

    /// `1.2.3` → `[1, 2, 3]`; `nil` for anything else.
    public static func parseVersion(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let numbers = parts.compactMap { part -> Int? in
            guard !part.isEmpty, part.count <= 9, part.allSatisfy(\.isASCII), part == "0" || !part.hasPrefix("0") else {
                return nil
            }
            return Int(part)
        }
        return numbers.count == 3 ? numbers : nil
    }

    /// Whether version `a` is higher than `b` (both well-formed).
    public static func isHigher(_ a: String, than b: String) -> Bool {
        guard let x = parseVersion(a), let y = parseVersion(b) else { return false }
        return y.lexicographicallyPrecedes(x)
    }

    /// A data label: `pii`, `secret`, `internal`, `customer-data`.
    public static func isLabel(_ label: String) -> Bool {
        guard let first = label.unicodeScalars.first, ("a"..."z").contains(first), label.utf8.count <= 64 else {
            return false
        }
        return label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}
