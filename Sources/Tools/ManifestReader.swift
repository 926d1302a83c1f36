import AirlockCore

/// Typed reads from a manifest document that record a ``FieldProblem`` (pointer and line) for
/// every missing, mistyped or out-of-range field instead of stopping at the first.
struct ManifestReader {
    /// Where the problems go (AirlockCore's one recorder and wording).
    private var recorded: DocumentProblems

    init(source: YAMLDocument?) { recorded = DocumentProblems(source) }

    /// The parsed file, for line numbers; `nil` for documents read back from the registry.
    var source: YAMLDocument? { recorded.document }
    /// Every problem found, in the order found.
    var problems: [FieldProblem] { recorded.all }

    /// Records a problem found by another reader of the same document.
    mutating func record(_ problem: FieldProblem) {
        recorded.add(problem)
    }

    mutating func problem(_ pointer: String, _ message: String) {
        recorded.add(pointer, message)
    }

    /// An object whose keys are checked against `allowed` (nil: any key) and `required`.
    mutating func object(
        _ value: JSONValue?, _ pointer: String, allowed: [String]?, required: [String], optional: Bool = false
    ) -> [String: JSONValue]? {
        guard let value else {
            return nil
        }
        guard case .object(let members) = value else {
            recorded.wrongType(value, at: pointer, expected: "an object")
            return nil
        }
        if let allowed { recorded.unknownFields(of: members, at: pointer, allowed: allowed) }
        recorded.missingFields(of: members, at: pointer, required: required)
        return members
    }

    /// A string member; `check` returns a message when the value is unacceptable.
    mutating func string(
        _ m: [String: JSONValue]?, _ pointer: String, _ key: String, check: (String) -> String?
    ) -> String? {
        guard let value = m?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        guard case .string(let s) = value else {
            recorded.wrongType(value, at: at, expected: "a string")
            return nil
        }
        if let message = check(s) {
            problem(at, message)
            return nil
        }
        return s
    }

    /// An array (absent: empty).
    mutating func array(_ value: JSONValue?, _ pointer: String) -> [JSONValue] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            recorded.wrongType(value, at: pointer, expected: "an array")
            return []
        }
        return items
    }

    /// An array of strings without repeats (absent: empty).
    mutating func strings(_ m: [String: JSONValue]?, _ pointer: String, _ key: String) -> [String] {
        let at = JSONPointer.appending(pointer, key)
        var out: [String] = []
        for (index, item) in array(m?[key], at).enumerated() {
            guard case .string(let s) = item else {
                recorded.wrongType(item, at: JSONPointer.appending(at, index), expected: "a string")
                continue
            }
            if out.contains(s) {
                problem(JSONPointer.appending(at, index), "\"\(s)\" is listed twice")
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// One of an enumeration's raw values.
    mutating func enumeration<E: RawRepresentable & CaseIterable>(
        _ m: [String: JSONValue]?, _ pointer: String, _ key: String, _ type: E.Type
    ) -> E? where E.RawValue == String {
        let known = E.allCases.map(\.rawValue)
        return string(m, pointer, key) { known.contains($0) ? nil : "must be one of \(known.joined(separator: ", "))" }
            .flatMap(E.init(rawValue:))
    }

    /// A number within `range` (an integer when `integer`).
    mutating func number(
        _ m: [String: JSONValue]?, _ pointer: String, _ key: String, range: ClosedRange<Double>, integer: Bool = false
    ) -> Double? {
        guard let value = m?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        guard let d = integer ? value.integerValue.map(Double.init) : value.doubleValue, range.contains(d) else {
            problem(
                at,
                "must be \(integer ? "an integer" : "a number") from \(Self.show(range.lowerBound)) to \(Self.show(range.upperBound))"
            )
            return nil
        }
        return d
    }

    /// A byte size (integer, or a string such as `64MiB`) within `range`.
    mutating func size(_ m: [String: JSONValue]?, _ pointer: String, _ key: String, range: ClosedRange<UInt64>)
        -> UInt64?
    {
        guard let value = m?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        let bytes: UInt64?
        switch value {
        case .integer(let i): bytes = i >= 0 ? UInt64(i) : nil
        case .string(let s): bytes = ByteSize.parse(s)
        default: bytes = nil
        }
        guard let bytes, range.contains(bytes) else {
            problem(
                at,
                "must be a size from \(range.lowerBound) to \(range.upperBound) bytes (an integer, or e.g. 64K, 256MiB, 1G: powers of 1024)"
            )
            return nil
        }
        return bytes
    }

    private static func show(_ d: Double) -> String { JSONValue.number(d).canonicalString }
}
