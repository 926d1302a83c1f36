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
    /// The problems, in the order found.
    public private(set) var all: [FieldProblem] = []

    /// Problems of `document`.
    public init(_ document: YAMLDocument?) {
        self.document = document
    }

    /// Whether none was found.
    public var isEmpty: Bool { all.isEmpty }

    /// Each problem as `POINTER (line N): MESSAGE`.
    public var lines: [String] { all.map(\.description) }

    /// Records `message` about the field at `pointer`, with its line (or its nearest ancestor's).
    public mutating func add(_ pointer: String, _ message: String) {
        all.append(FieldProblem(pointer: pointer, line: document?.line(for: pointer), message: message))
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
}
