/// The one typed reader over a document (a manifest, policy, workflow, suite, profile, site file
/// or model lock): each read checks one field's type and range and, when it is wrong, records a
/// ``FieldProblem`` (pointer and line) into ``DocumentProblems`` and returns `nil`, so the caller
/// skips the broken piece and goes on and every problem is reported at once.
///
/// Two shapes of read, one set of checks: value reads (`string(value, at: pointer)`) for a value
/// already in hand, and member reads (`string(members, pointer, key)`) that look a key up in an
/// object and read nothing when it is absent. Domain reads (digests, file names, plan steps) are
/// extensions on this type in the module that owns them; the wording is always
/// ``DocumentProblems``' static functions.
public struct DocumentReader: Sendable {
    /// Where the problems go.
    public private(set) var problems: DocumentProblems

    /// A reader of `document` (`nil`: a document that did not come from a file, without lines).
    public init(_ document: YAMLDocument?) {
        problems = DocumentProblems(document)
    }

    /// A reader of a document known only by its table of source lines.
    public init(lines: [String: Int]) {
        problems = DocumentProblems(lines: lines)
    }

    /// The parsed file, for line numbers; `nil` for documents that did not come from one.
    public var document: YAMLDocument? { problems.document }
    /// Every problem found, in the order found.
    public var all: [FieldProblem] { problems.all }
    /// How many problems were found so far (compare before and after reading one piece).
    public var count: Int { problems.all.count }
    /// The source line of `pointer` or of its nearest ancestor that has one.
    public func line(for pointer: String) -> Int? { problems.line(for: pointer) }
    /// Whether none was found.
    public var isEmpty: Bool { problems.isEmpty }

    /// Parses YAML (or JSON) text; a syntax error becomes one ``FieldProblem`` at the root with
    /// its line, handed to `make` to make the module's own error (so exit codes stay the module's).
    public static func parse<E: Error>(_ text: String, orThrow make: ([FieldProblem]) -> E) throws(E)
        -> YAMLDocument
    {
        do {
            return try YAMLDocument(text: text)
        } catch {
            throw make([FieldProblem(pointer: "", line: error.line, message: error.reason)])
        }
    }

    /// Records `message` about the field at `pointer`.
    public mutating func fail(_ pointer: String, _ message: String) {
        problems.add(pointer, message)
    }

    /// Records a problem another reader of the same document found.
    public mutating func record(_ problem: FieldProblem) {
        problems.add(problem)
    }

    // MARK: Value reads

    /// An object's members, checking that only `allowed` keys appear (`nil` allows any key, and
    /// the message lists them in the order given) and that every `required` key does.
    public mutating func object(_ value: JSONValue, at pointer: String, allowed: [String]?, required: [String] = [])
        -> DocumentFields?
    {
        guard case .object(let members) = value else {
            problems.wrongType(value, at: pointer, expected: "an object")
            return nil
        }
        if let allowed { problems.unknownFields(of: members, at: pointer, allowed: allowed) }
        problems.missingFields(of: members, at: pointer, required: required)
        return DocumentFields(members: members, pointer: pointer)
    }

    /// A string, refused when empty if `nonEmpty`.
    public mutating func string(_ value: JSONValue, at pointer: String, nonEmpty: Bool = true) -> String? {
        guard case .string(let s) = value else {
            problems.wrongType(value, at: pointer, expected: "a string")
            return nil
        }
        if nonEmpty && s.isEmpty {
            fail(pointer, DocumentProblems.empty)
            return nil
        }
        return s
    }

    /// A list of strings. Every item is checked (all problems recorded, `nil` if any);
    /// `nonEmptyItems` refuses empty strings, `nonEmpty` an empty list (one that could never
    /// match), `unique` a string listed twice.
    public mutating func strings(
        _ value: JSONValue, at pointer: String, nonEmpty: Bool = true, nonEmptyItems: Bool = true, unique: Bool = false
    ) -> [String]? {
        guard case .array(let items) = value else {
            problems.wrongType(value, at: pointer, expected: "a list of strings")
            return nil
        }
        let before = count
        var out: [String] = []
        for (index, item) in items.enumerated() {
            let at = JSONPointer.appending(pointer, index)
            guard let s = string(item, at: at, nonEmpty: nonEmptyItems) else { continue }
            if unique && out.contains(s) {
                fail(at, DocumentProblems.listedTwice(s))
            } else {
                out.append(s)
            }
        }
        guard count == before else { return nil }
        if nonEmpty && out.isEmpty {
            fail(pointer, DocumentProblems.emptyList)
            return nil
        }
        return out
    }

    /// An integer within `range` (the default: not negative). `Int64.max` as the upper bound,
    /// `Int64.min` as the lower, are left unsaid in the message.
    public mutating func integer(_ value: JSONValue, at pointer: String, in range: ClosedRange<Int64> = 0...Int64.max)
        -> Int64?
    {
        guard let i = value.integerValue, range.contains(i) else {
            let low = range.lowerBound == .min ? -Double.infinity : Double(range.lowerBound)
            let high = range.upperBound == .max ? Double.infinity : Double(range.upperBound)
            fail(pointer, DocumentProblems.outOfRange("an integer", low...high))
            return nil
        }
        return i
    }

    /// A number within `range` (the default: not negative).
    public mutating func number(_ value: JSONValue, at pointer: String, in range: ClosedRange<Double> = 0 ... .infinity)
        -> Double?
    {
        guard let d = value.doubleValue, range.contains(d) else {
            fail(pointer, DocumentProblems.outOfRange("a number", range))
            return nil
        }
        return d
    }

    /// `true` or `false`.
    public mutating func bool(_ value: JSONValue, at pointer: String) -> Bool? {
        guard case .bool(let b) = value else {
            problems.wrongType(value, at: pointer, expected: "true or false")
            return nil
        }
        return b
    }

    /// A list of any values.
    public mutating func array(_ value: JSONValue, at pointer: String) -> [JSONValue]? {
        guard case .array(let items) = value else {
            problems.wrongType(value, at: pointer, expected: "an array")
            return nil
        }
        return items
    }

    /// One of an enumeration's raw values; anything else is reported with the allowed ones.
    public mutating func enumeration<E: RawRepresentable & CaseIterable>(
        _ value: JSONValue, at pointer: String, _ type: E.Type = E.self
    ) -> E? where E.RawValue == String {
        guard let s = string(value, at: pointer, nonEmpty: false) else { return nil }
        if let e = E(rawValue: s) { return e }
        fail(pointer, DocumentProblems.notOneOf(s, allowed: E.allCases.map(\.rawValue)))
        return nil
    }

    /// A byte size (an integer, or a string such as `64MiB`; see ``ByteSize``) within `range`.
    public mutating func size(_ value: JSONValue, at pointer: String, in range: ClosedRange<UInt64>) -> UInt64? {
        let bytes: UInt64?
        switch value {
        case .integer(let i): bytes = i >= 0 ? UInt64(i) : nil
        case .string(let s): bytes = ByteSize.parse(s)
        default: bytes = nil
        }
        guard let bytes, range.contains(bytes) else {
            fail(pointer, DocumentProblems.notASize(range))
            return nil
        }
        return bytes
    }

    // MARK: Pointer reads (a field addressed by its whole pointer into the document)

    /// The document's value at `pointer`; absent, `nil`, recorded as a missing field of its
    /// parent when `required`.
    public mutating func value(at pointer: String, required: Bool = false) -> JSONValue? {
        if let value = document?.value.value(at: pointer) { return value }
        if required {
            let cut = pointer.lastIndex(of: "/") ?? pointer.startIndex
            fail(String(pointer[..<cut]), DocumentProblems.missingField(String(pointer[cut...].dropFirst())))
        }
        return nil
    }

    // MARK: Member reads (absent key: nothing read, nothing recorded)

    /// The object at `value` (absent: `nil`), its keys checked against `allowed` and `required`.
    public mutating func object(_ value: JSONValue?, _ pointer: String, allowed: [String]?, required: [String])
        -> [String: JSONValue]?
    {
        guard let value else { return nil }
        return object(value, at: pointer, allowed: allowed, required: required)?.members
    }

    /// The string member `key`; `check` returns a message when the value is unacceptable.
    public mutating func string(
        _ members: [String: JSONValue]?, _ pointer: String, _ key: String, check: (String) -> String?
    ) -> String? {
        guard let value = members?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        guard let s = string(value, at: at, nonEmpty: false) else { return nil }
        if let message = check(s) {
            fail(at, message)
            return nil
        }
        return s
    }

    /// An array (absent: empty).
    public mutating func array(_ value: JSONValue?, _ pointer: String) -> [JSONValue] {
        guard let value else { return [] }
        return array(value, at: pointer) ?? []
    }

    /// The member `key` as strings without repeats (absent or broken: empty).
    public mutating func strings(_ members: [String: JSONValue]?, _ pointer: String, _ key: String) -> [String] {
        guard let value = members?[key] else { return [] }
        let at = JSONPointer.appending(pointer, key)
        guard case .array = value else {
            problems.wrongType(value, at: at, expected: "an array")
            return []
        }
        return strings(value, at: at, nonEmpty: false, nonEmptyItems: false, unique: true) ?? []
    }

    /// The member `key` as one of an enumeration's raw values.
    public mutating func enumeration<E: RawRepresentable & CaseIterable>(
        _ members: [String: JSONValue]?, _ pointer: String, _ key: String, _ type: E.Type
    ) -> E? where E.RawValue == String {
        guard let value = members?[key] else { return nil }
        return enumeration(value, at: JSONPointer.appending(pointer, key), type)
    }

    /// The member `key` as a number within `range` (an integer when `integer`).
    public mutating func number(
        _ members: [String: JSONValue]?, _ pointer: String, _ key: String, range: ClosedRange<Double>,
        integer: Bool = false
    ) -> Double? {
        guard let value = members?[key] else { return nil }
        let at = JSONPointer.appending(pointer, key)
        guard let d = integer ? value.integerValue.map(Double.init) : value.doubleValue, range.contains(d) else {
            fail(at, DocumentProblems.outOfRange(integer ? "an integer" : "a number", range))
            return nil
        }
        return d
    }

    /// The member `key` as a byte size within `range`.
    public mutating func size(
        _ members: [String: JSONValue]?, _ pointer: String, _ key: String, range: ClosedRange<UInt64>
    )
        -> UInt64?
    {
        guard let value = members?[key] else { return nil }
        return size(value, at: JSONPointer.appending(pointer, key), in: range)
    }
}

/// The members of one object being read, with the pointer of each.
public struct DocumentFields: Sendable {
    /// The object's members.
    public let members: [String: JSONValue]
    /// The object's pointer.
    public let pointer: String

    /// Members at `pointer`.
    public init(members: [String: JSONValue], pointer: String) {
        self.members = members
        self.pointer = pointer
    }

    /// The value and pointer of `key`, or `nil` when absent.
    public func callAsFunction(_ key: String) -> (value: JSONValue, pointer: String)? {
        guard let value = members[key] else { return nil }
        return (value, JSONPointer.appending(pointer, key))
    }

    /// The pointer `key` would have.
    public func pointer(_ key: String) -> String { JSONPointer.appending(pointer, key) }
}
