import AirlockCore

/// One compiled constraint on the value at a JSON pointer in the arguments.
///
/// Every check present must hold. A missing value fails every check except `present: false`; a
/// value of the wrong type fails the checks for other types (a string `"10"` is not in a numeric
/// range), so type confusion never satisfies a permit.
struct ArgumentConstraint: Sendable, Hashable {
    /// The pointer as written (`/path`).
    let pointer: String
    /// Its unescaped tokens, split once at load.
    let tokens: [String]
    /// The constraint as written, for lint comparisons.
    let source: JSONValue

    var present: Bool?
    var type: String?
    var equals: JSONValue?
    var oneOf: Set<JSONValue>?
    var regex: CompiledRegex?
    var minimum: Double?
    var maximum: Double?
    var minLength: Int?
    var maxLength: Int?
    /// Normalised roots a path must lie within.
    var pathWithin: [String]?

    init(pointer: String, source: JSONValue) {
        self.pointer = pointer
        self.source = source
        // The loader rejects pointers without a leading '/', so the fallback is never used.
        self.tokens = JSONPointer.tokens(pointer) ?? []
    }

    func holds(_ arguments: JSONValue, paths: PathNormalizer) -> Bool {
        guard let value = arguments.value(atTokens: tokens) else { return present == false }
        if present == false { return false }
        if let type, !Self.hasType(value, type) { return false }
        if let equals, !Self.same(value, equals) { return false }
        if let oneOf, !oneOf.contains(value), !oneOf.contains(where: { Self.same(value, $0) }) { return false }
        if let regex {
            guard case .string(let s) = value, regex.matches(s) else { return false }
        }
        if minimum != nil || maximum != nil {
            guard let d = Self.numeric(value) else { return false }
            if let minimum, d < minimum { return false }
            if let maximum, d > maximum { return false }
        }
        if minLength != nil || maxLength != nil {
            let length: Int
            switch value {
            case .string(let s): length = s.unicodeScalars.count
            case .array(let a): length = a.count
            case .object(let o): length = o.count
            default: return false
            }
            if let minLength, length < minLength { return false }
            if let maxLength, length > maxLength { return false }
        }
        if let pathWithin {
            guard case .string(let s) = value, case .path(let normalised) = paths.normalize(s) else { return false }
            guard pathWithin.contains(where: { PathNormalizer.isWithin(normalised, root: $0) }) else { return false }
        }
        return true
    }

    static let typeNames: Set<String> = ["string", "integer", "number", "boolean", "array", "object", "null"]

    private static func numeric(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }

    /// JSON Schema's types, which the manifest's schema checked before the policy sees the call:
    /// a number with no fractional part is an integer (`300.0` is `300`). Were the two to differ,
    /// a rule asking about `type: integer` would miss the `300.0` that the schema let through.
    private static func hasType(_ value: JSONValue, _ type: String) -> Bool {
        switch (value, type) {
        case (.string, "string"), (.integer, "integer"), (.integer, "number"), (.number, "number"),
            (.bool, "boolean"), (.array, "array"), (.object, "object"), (.null, "null"):
            true
        case (.number(let d), "integer"): d.isFinite && d.rounded() == d
        default: false
        }
    }

    /// JSON equality as the schema has it: numbers by value (`1` equals `1.0`).
    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .integer(let x) = a, case .integer(let y) = b { return x == y }
        if let x = numeric(a), let y = numeric(b) { return x == y }
        return a == b
    }
}
