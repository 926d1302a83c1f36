import AirlockCore

/// Reads typed fields out of a ``JSONValue`` document, recording every problem with its path and
/// line instead of stopping at the first, so that lint can report them all.
///
/// Readers return `nil` after recording a problem; callers skip the broken piece and go on.
/// The recording and the wording are AirlockCore's ``DocumentProblems``, shared with every other
/// document reader; this adds the policy's typed reads and hands its problems on as
/// ``PolicyDiagnostic`` errors (the linter adds warnings and notes of its own).
struct DocumentReader {
    /// Source lines by JSON pointer (empty for documents that did not come from YAML).
    let lines: [String: Int]
    /// Problems found so far, in the order found.
    var problems: [PolicyDiagnostic] = []

    init(lines: [String: Int] = [:]) {
        self.lines = lines
    }

    /// Parses YAML text, turning a syntax error into a ``PolicyError`` of `code` with its line.
    static func parse(_ text: String, as code: PolicyError.Code) throws(PolicyError) -> YAMLDocument {
        do {
            return try YAMLDocument(text: text)
        } catch {
            throw PolicyError(
                code, problems: [PolicyDiagnostic(.error, path: "", line: error.line, message: error.reason)])
        }
    }

    /// The line of `pointer` or of its nearest ancestor that has one.
    func line(for pointer: String) -> Int? {
        YAMLDocument.line(for: pointer, in: lines)
    }

    mutating func fail(_ pointer: String, _ message: String) {
        problems.append(PolicyDiagnostic(.error, path: pointer, line: line(for: pointer), message: message))
    }

    /// An object's members, checking that only `allowed` keys appear (`nil` allows any key).
    mutating func object(_ value: JSONValue, at pointer: String, allowed: Set<String>?) -> Fields? {
        guard case .object(let members) = value else {
            fail(pointer, DocumentProblems.wrongType(value, expected: "an object"))
            return nil
        }
        if let allowed {
            let known = allowed.sorted()
            for key in members.keys.sorted() where !allowed.contains(key) {
                fail(JSONPointer.appending(pointer, key), DocumentProblems.unknownField(key, allowed: known))
            }
        }
        return Fields(members: members, pointer: pointer)
    }

    mutating func string(_ value: JSONValue, at pointer: String, nonEmpty: Bool = true) -> String? {
        guard case .string(let s) = value else {
            fail(pointer, DocumentProblems.wrongType(value, expected: "a string"))
            return nil
        }
        if nonEmpty && s.isEmpty {
            fail(pointer, "must not be empty")
            return nil
        }
        return s
    }

    mutating func strings(_ value: JSONValue, at pointer: String, nonEmpty: Bool = true) -> [String]? {
        guard case .array(let items) = value else {
            fail(pointer, DocumentProblems.wrongType(value, expected: "a list of strings"))
            return nil
        }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard let s = string(item, at: JSONPointer.appending(pointer, index)) else { return nil }
            out.append(s)
        }
        if nonEmpty && out.isEmpty {
            fail(pointer, "an empty list can never match; remove the field or list at least one value")
            return nil
        }
        return out
    }

    mutating func integer(_ value: JSONValue, at pointer: String, minimum: Int64 = 0) -> Int64? {
        atLeast(value.integerValue, minimum, value, pointer, "an integer")
    }

    mutating func number(_ value: JSONValue, at pointer: String, minimum: Double = 0) -> Double? {
        atLeast(value.doubleValue, minimum, value, pointer, "a number")
    }

    private mutating func atLeast<T: Comparable>(
        _ converted: T?, _ minimum: T, _ value: JSONValue, _ pointer: String, _ kind: String
    ) -> T? {
        guard let converted else {
            fail(pointer, DocumentProblems.wrongType(value, expected: kind))
            return nil
        }
        guard converted >= minimum else {
            fail(pointer, "must be at least \(minimum), found \(converted)")
            return nil
        }
        return converted
    }

    /// One of an enumeration's raw values; anything else is reported with the valid choices.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ value: JSONValue, at pointer: String, what: String)
        -> T? where T.RawValue == String
    {
        guard let s = string(value, at: pointer) else { return nil }
        if let choice = T(rawValue: s) { return choice }
        let names = T.allCases.map(\.rawValue)
        let options = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
        fail(pointer, "unknown \(what) '\(s)' (use \(options))")
        return nil
    }

    mutating func bool(_ value: JSONValue, at pointer: String) -> Bool? {
        guard case .bool(let b) = value else {
            fail(pointer, DocumentProblems.wrongType(value, expected: "true or false"))
            return nil
        }
        return b
    }

    mutating func array(_ value: JSONValue, at pointer: String) -> [JSONValue]? {
        guard case .array(let items) = value else {
            fail(pointer, DocumentProblems.wrongType(value, expected: "a list"))
            return nil
        }
        return items
    }
}

/// The members of one object being read, with the pointer of each.
struct Fields {
    let members: [String: JSONValue]
    let pointer: String

    /// The value and pointer of `key`, or `nil` when absent.
    func callAsFunction(_ key: String) -> (value: JSONValue, pointer: String)? {
        guard let value = members[key] else { return nil }
        return (value, JSONPointer.appending(pointer, key))
    }

    /// The pointer `key` would have.
    func pointer(_ key: String) -> String { JSONPointer.appending(pointer, key) }
}
