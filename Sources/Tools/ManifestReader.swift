import AirlockCore

/// Typed reads from a manifest document that record a ``FieldProblem`` (pointer and line) for
/// every missing, mistyped or out-of-range field instead of stopping at the first.
struct ManifestReader {
    /// The parsed file, for line numbers; `nil` for documents read back from the registry.
    let source: YAMLDocument?
    private(set) var problems: [FieldProblem] = []

    init(source: YAMLDocument?) { self.source = source }

    /// Records a problem found by another reader of the same document.
    mutating func record(_ problem: FieldProblem) {
        problems.append(problem)
    }

    mutating func problem(_ pointer: String, _ message: String) {
        problems.append(FieldProblem(pointer: pointer, line: source?.line(for: pointer), message: message))
    }

    /// An object whose keys are checked against `allowed` (nil: any key) and `required`.
    mutating func object(
        _ value: JSONValue?, _ pointer: String, allowed: [String]?, required: [String], optional: Bool = false
    ) -> [String: JSONValue]? {
        guard let value else {
            return nil
        }
        guard case .object(let members) = value else {
            problem(pointer, "must be an object, not \(value.typeName)")
            return nil
        }
        if let allowed {
            for key in members.keys.sorted() where !allowed.contains(key) {
                problem(
                    JSONPointer.appending(pointer, key),
                    "unknown field \"\(key)\" (allowed: \(allowed.joined(separator: ", ")))")
            }
        }
        for key in required where members[key] == nil {
            problem(pointer, "missing required field \"\(key)\"")
        }
        return members
    }

    /// A string member; `check` returns a message when the value is unacceptable.
    mutating func string(
        _ m: [String: JSONValue]?, _ pointer: String, _ key: String, check: (String) -> String?
    ) -> String? {
        guard let value = m?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        guard case .string(let s) = value else {
            problem(at, "must be a string, not \(value.typeName)")
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
            problem(pointer, "must be an array, not \(value.typeName)")
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
                problem(JSONPointer.appending(at, index), "must be a string, not \(item.typeName)")
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
