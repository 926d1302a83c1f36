import Yams

/// A YAML (or JSON) document turned into a ``JSONValue``, with the source line of every node so
/// that errors can name both the field path and the line (`/limits/memory (line 14): …`).
///
/// Manifests, policies and workflows are all read through this one loader: the same YAML rules
/// (YAML 1.1 core scalars as resolved by libyaml, duplicate keys and aliases rejected: an anchor
/// expanded at a distance would let one edit change fields far from it) apply everywhere. Non-string mapping keys are rejected.
public struct YAMLDocument: Sendable {
    /// The document as JSON.
    public var value: JSONValue
    /// The 1-based line of each node, keyed by its JSON pointer (`""` is the root).
    public var lines: [String: Int]

    /// Parses YAML text (JSON is YAML too).
    /// - Throws: ``YAMLDocumentError`` with the line and the reason.
    public init(text: String) throws(YAMLDocumentError) {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLDocumentError(line: Self.line(of: error), reason: "\(error)")
        } catch {
            throw YAMLDocumentError(line: nil, reason: "\(error)")
        }
        guard let node else { throw YAMLDocumentError(line: 1, reason: "the document is empty") }
        var lines: [String: Int] = [:]
        value = try Self.convert(node, pointer: "", lines: &lines)
        self.lines = lines
    }

    /// The line of the node at `pointer`, or of its nearest ancestor that has one.
    public func line(for pointer: String) -> Int? {
        Self.line(for: pointer, in: lines)
    }

    /// The line of `pointer` or of its nearest ancestor that has one, in a table of lines by
    /// pointer: the one lookup every document reader uses.
    public static func line(for pointer: String, in lines: [String: Int]) -> Int? {
        var p = pointer
        while true {
            if let line = lines[p] { return line }
            guard let slash = p.lastIndex(of: "/") else { return nil }
            p = String(p[..<slash])
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }

    private static func convert(_ node: Node, pointer: String, lines: inout [String: Int])
        throws(YAMLDocumentError) -> JSONValue
    {
        if let mark = node.mark { lines[pointer] = mark.line }
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.description) {
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            // YAML 1.1's base-60 numbers (`1:30` is 90) are text here, as in YAML 1.2: what a
            // person writing `1:30` means, and Yams's conversion of a long one overflows and traps
            // (found by the workflow fuzzer: `max_steps: 1:2:3:4:5:6:7:8:9:10:11:12`).
            case .int where scalar.string.contains(":"), .float where scalar.string.contains(":"):
                return .string(scalar.string)
            case .int:
                guard let i = Int64(exactly: node.int ?? 0), node.int != nil else {
                    throw YAMLDocumentError(line: node.mark?.line, reason: "\(pointer): integer out of range")
                }
                return .integer(i)
            case .float:
                guard let d = node.float, d.isFinite else {
                    throw YAMLDocumentError(line: node.mark?.line, reason: "\(pointer): number is not finite")
                }
                return .number(d)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, pointer: JSONPointer.appending(pointer, index), lines: &lines))
            }
            return .array(items)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    throw YAMLDocumentError(line: key.mark?.line, reason: "\(pointer): mapping keys must be strings")
                }
                guard members[k.string] == nil else {
                    throw YAMLDocumentError(line: key.mark?.line, reason: "\(pointer): duplicate key \"\(k.string)\"")
                }
                members[k.string] = try convert(
                    value, pointer: JSONPointer.appending(pointer, k.string), lines: &lines)
            }
            return .object(members)
        case .alias:
            throw YAMLDocumentError(line: node.mark?.line, reason: "\(pointer): YAML aliases are not supported")
        }
    }
}

/// Why a YAML document could not be read.
public struct YAMLDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line, when known.
    public var line: Int?
    /// What was wrong.
    public var reason: String

    public var description: String {
        if let line { return "line \(line): \(reason)" }
        return reason
    }
}
