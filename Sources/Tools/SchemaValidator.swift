import AirlockCore

/// Checks one instance against compiled ``SchemaNode``s, collecting every violation.
struct SchemaValidator {
    let definitions: [String: SchemaNode]
    let maxDepth: Int

    func check(_ node: SchemaNode, _ value: JSONValue, pointer: String, depth: Int, into out: inout [FieldProblem]) {
        func fail(_ message: String) { out.append(FieldProblem(pointer: pointer, message: message)) }
        guard depth <= maxDepth else {
            fail("schema nesting or $ref chain deeper than \(maxDepth)")
            return
        }
        if let always = node.alwaysValid {
            if !always { fail("no value is allowed here") }
            return
        }
        if let name = node.reference, let target = definitions[name] {
            check(target, value, pointer: pointer, depth: depth + 1, into: &out)
        }
        if let types = node.types, !types.contains(where: { Self.matches(value, type: $0) }) {
            fail("must be \(Self.article(types.joined(separator: " or "))), not \(value.typeName)")
        }
        if let options = node.enumValues, !options.contains(where: { Self.equal($0, value) }) {
            fail("must be one of \(options.map(\.canonicalString).joined(separator: ", "))")
        }
        if let expected = node.constValue, !Self.equal(expected, value) {
            fail("must be \(expected.canonicalString)")
        }
        switch value {
        case .string(let s):
            let length = s.unicodeScalars.count
            if let min = node.minLength, length < min { fail("must be at least \(min) characters long") }
            if let max = node.maxLength, length > max { fail("must be at most \(max) characters long") }
            if let pattern = node.pattern, !pattern.matches(s) { fail("must match the pattern \(pattern.source)") }
        case .integer, .number:
            let d = value.doubleValue ?? 0
            if let min = node.minimum, d < min { fail("must be at least \(Self.show(min))") }
            if let max = node.maximum, d > max { fail("must be at most \(Self.show(max))") }
            if let min = node.exclusiveMinimum, d <= min { fail("must be greater than \(Self.show(min))") }
            if let max = node.exclusiveMaximum, d >= max { fail("must be less than \(Self.show(max))") }
        case .array(let items):
            if let min = node.minItems, items.count < min { fail("must have at least \(min) items") }
            if let max = node.maxItems, items.count > max { fail("must have at most \(max) items") }
            if let schema = node.items {
                for (index, item) in items.enumerated() {
                    check(schema, item, pointer: JSONPointer.appending(pointer, index), depth: depth + 1, into: &out)
                }
            }
        case .object(let members):
            for name in node.required where members[name] == nil {
                fail("missing required property \"\(name)\"")
            }
            var declared: Set<String> = []
            for (name, schema) in node.properties {
                declared.insert(name)
                if let member = members[name] {
                    check(schema, member, pointer: JSONPointer.appending(pointer, name), depth: depth + 1, into: &out)
                }
            }
            for name in members.keys.sorted() where !declared.contains(name) {
                let at = JSONPointer.appending(pointer, name)
                switch node.additional {
                case .allowed: break
                case .forbidden: out.append(FieldProblem(pointer: at, message: "is not an allowed property"))
                case .schema(let schema):
                    check(schema, members[name] ?? .null, pointer: at, depth: depth + 1, into: &out)
                }
            }
        case .null, .bool:
            break
        }
        for schema in node.allOf {
            check(schema, value, pointer: pointer, depth: depth + 1, into: &out)
        }
        if !node.anyOf.isEmpty {
            let passing = node.anyOf.filter { passes($0, value, pointer: pointer, depth: depth + 1) }
            if passing.isEmpty { fail("must match at least one schema in anyOf") }
        }
        if !node.oneOf.isEmpty {
            let passing = node.oneOf.filter { passes($0, value, pointer: pointer, depth: depth + 1) }.count
            if passing != 1 { fail("must match exactly one schema in oneOf (matched \(passing))") }
        }
    }

    private func passes(_ node: SchemaNode, _ value: JSONValue, pointer: String, depth: Int) -> Bool {
        var scratch: [FieldProblem] = []
        check(node, value, pointer: pointer, depth: depth, into: &scratch)
        return scratch.isEmpty
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("number", .integer), ("number", .number), ("integer", .integer):
            return true
        case ("integer", .number(let d)):
            return d.isFinite && d.rounded() == d
        default:
            return false
        }
    }

    /// JSON equality: numbers compare by value (`1` equals `1.0`), booleans never equal numbers.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x == y
        case (.integer, .number), (.number, .integer), (.number, .number): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: return a == b
        }
    }

    private static func show(_ d: Double) -> String { JSONValue.number(d).canonicalString }

    private static func article(_ text: String) -> String {
        let vowel = text.first.map { "aeio".contains($0) } ?? false
        return (vowel ? "an " : "a ") + text
    }
}
