/// Every problem found in one document (a manifest, policy, workflow, profile, suite, site
/// file), each with its field (a JSON pointer) and source line, in one wording: what every
/// document reader in Airlock records into, so that a lint reports them all and every front door
/// words the same mistake the same way.
///
/// The wording: `must be an object, not array`; `unknown field "colour" (allowed: a, b)`;
/// `missing required field "name"`.
public struct DocumentProblems: Sendable {
    /// The parsed file, for line numbers; `nil` for documents that did not come from a file.
    public let document: YAMLDocument?
    /// Source lines by JSON pointer (the document's, or a table handed in; empty: no lines).
    private let sourceLines: [String: Int]
    /// The problems, in the order found.
    public private(set) var all: [FieldProblem] = []

    /// Problems of `document`.
    public init(_ document: YAMLDocument?) {
        self.document = document
        sourceLines = document?.lines ?? [:]
    }

    /// Problems of a document known only by its table of lines (a JSON value read from YAML
    /// elsewhere; empty for one that did not come from a file).
    public init(lines: [String: Int]) {
        document = nil
        sourceLines = lines
    }

    /// The source line of `pointer` or of its nearest ancestor that has one.
    public func line(for pointer: String) -> Int? {
        YAMLDocument.line(for: pointer, in: sourceLines)
    }

    /// Whether none was found.
    public var isEmpty: Bool { all.isEmpty }

    /// Each problem as `POINTER (line N): MESSAGE`.
    public var lines: [String] { all.map(\.description) }

    /// Records `message` about the field at `pointer`, with its line (or its nearest ancestor's).
    public mutating func add(_ pointer: String, _ message: String) {
        all.append(FieldProblem(pointer: pointer, line: line(for: pointer), message: message))
    }

    /// Records a problem another reader found.
    public mutating func add(_ problem: FieldProblem) {
        all.append(problem)
    }

    /// Records every key of `object` that `allowed` does not hold, in key order.
    public mutating func unknownFields(of object: [String: JSONValue], at pointer: String, allowed: [String]) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            add(JSONPointer.appending(pointer, key), Self.unknownField(key, allowed: allowed))
        }
    }

    /// Records that the value at `pointer` is not what was expected (`an object`, `a string`).
    public mutating func wrongType(_ value: JSONValue, at pointer: String, expected: String) {
        add(pointer, Self.wrongType(value, expected: expected))
    }

    /// Records every key of `required` missing from `object`, against the object's pointer.
    public mutating func missingFields(of object: [String: JSONValue], at pointer: String, required: [String]) {
        for key in required where object[key] == nil { add(pointer, Self.missingField(key)) }
    }

    // MARK: The one wording

    /// `unknown field "colour" (allowed: a, b)`.
    public static func unknownField(_ key: String, allowed: [String]) -> String {
        "unknown field \"\(key)\" (allowed: \(allowed.joined(separator: ", ")))"
    }

    /// `must be an object, not array`.
    public static func wrongType(_ value: JSONValue, expected: String) -> String {
        "must be \(expected), not \(value.typeName)"
    }

    /// `missing required field "name"`.
    public static func missingField(_ key: String) -> String {
        "missing required field \"\(key)\""
    }

    /// `must not be empty`.
    public static let empty = "must not be empty"

    /// `an empty list can never match; …`: a list that, empty, would silently match nothing.
    public static let emptyList = "an empty list can never match; remove the field or list at least one value"

    /// `"x" is listed twice`.
    public static func listedTwice(_ value: String) -> String {
        "\"\(value)\" is listed twice"
    }

    /// `must be one of low, medium, high (found "extreme")`.
    public static func notOneOf(_ found: String, allowed: [String]) -> String {
        "must be one of \(allowed.joined(separator: ", ")) (found \"\(found)\")"
    }

    /// `must be an integer from 1 to 1000`, `must be a number of at least 0`, `must be a number`:
    /// the same words for a wrong type and a value out of range, so either mistake reads as
    /// what would be right. An infinite bound is left unsaid.
    public static func outOfRange(_ kind: String, _ range: ClosedRange<Double>) -> String {
        let low = range.lowerBound.isFinite ? JSONValue.number(range.lowerBound).canonicalString : nil
        let high = range.upperBound.isFinite ? JSONValue.number(range.upperBound).canonicalString : nil
        switch (low, high) {
        case (let low?, let high?): return "must be \(kind) from \(low) to \(high)"
        case (let low?, nil): return "must be \(kind) of at least \(low)"
        case (nil, let high?): return "must be \(kind) of at most \(high)"
        case (nil, nil): return "must be \(kind)"
        }
    }

    /// `must be a size from 1 to 1024 bytes (an integer, or e.g. 64K, 256MiB, 1G: powers of 1024)`.
    public static func notASize(_ range: ClosedRange<UInt64>) -> String {
        "must be a size from \(range.lowerBound) to \(range.upperBound) bytes (an integer, or e.g. 64K, 256MiB, 1G: powers of 1024)"
    }
}
