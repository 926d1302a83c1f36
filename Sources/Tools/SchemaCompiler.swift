import AirlockCore

/// Turns a schema document into ``SchemaNode``s, collecting every problem on the way.
struct SchemaCompiler {
    private(set) var problems: [FieldProblem] = []
    /// Every `$ref` seen: (pointer of the `$ref`, definition name).
    private(set) var references: [(String, String)] = []

    static let typeNames: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]

    mutating func problem(_ pointer: String, _ message: String) {
        problems.append(FieldProblem(pointer: pointer, message: message))
    }

    mutating func compile(_ schema: JSONValue, pointer: String, isRoot: Bool = false) -> SchemaNode {
        switch schema {
        case .bool(let b):
            return SchemaNode(alwaysValid: b)
        case .object(let members):
            return compileObject(members, pointer: pointer, isRoot: isRoot)
        default:
            problem(pointer, "a schema must be an object or a boolean, not \(schema.typeName)")
            return SchemaNode(alwaysValid: true)
        }
    }

    private mutating func compileObject(_ m: [String: JSONValue], pointer: String, isRoot: Bool) -> SchemaNode {
        for key in m.keys.sorted() {
            let at = JSONPointer.appending(pointer, key)
            if key == "$defs" {
                if !isRoot { problem(at, "$defs is only supported at the schema's root") }
            } else if !JSONSchema.supportedKeywords.contains(key) && !JSONSchema.annotationKeywords.contains(key) {
                problem(
                    at,
                    "keyword \"\(key)\" is outside Airlock's schema subset (supported: "
                        + JSONSchema.supportedKeywords.joined(separator: ", ") + ")")
            }
        }
        func at(_ key: String) -> String { JSONPointer.appending(pointer, key) }

        var types: [String]?
        switch m["type"] {
        case nil: break
        case .string(let name)?:
            types = [name]
        case .array(let names)?:
            types = names.compactMap(\.stringValue)
            if types?.count != names.count || names.isEmpty {
                problem(at("type"), "must be a type name or a non-empty array of them")
            }
        default:
            problem(at("type"), "must be a type name or an array of type names")
        }
        for name in types ?? [] where !Self.typeNames.contains(name) {
            problem(
                at("type"),
                "unknown type \"\(name)\" (expected one of \(Self.typeNames.sorted().joined(separator: ", ")))")
        }

        var properties: [(String, SchemaNode)] = []
        if let value = m["properties"] {
            if case .object(let entries) = value {
                for name in entries.keys.sorted() {
                    // Lookups of keys taken from the dictionary itself.
                    properties.append(
                        (
                            name,
                            compile(
                                entries[name] ?? .bool(true), pointer: JSONPointer.appending(at("properties"), name))
                        ))
                }
            } else {
                problem(at("properties"), "must be an object of property schemas")
            }
        }

        var required: [String] = []
        if let value = m["required"] {
            if case .array(let names) = value, names.allSatisfy({ $0.stringValue != nil }) {
                required = names.compactMap(\.stringValue)
                if Set(required).count != required.count { problem(at("required"), "must not repeat a name") }
            } else {
                problem(at("required"), "must be an array of property names")
            }
        }

        var additional = SchemaNode.Additional.allowed
        switch m["additionalProperties"] {
        case nil, .bool(true)?: break
        case .bool(false)?: additional = .forbidden
        case .object?:
            additional = .schema(compile(m["additionalProperties"] ?? .bool(true), pointer: at("additionalProperties")))
        default: problem(at("additionalProperties"), "must be a boolean or a schema")
        }

        var items: SchemaNode?
        if let value = m["items"] {
            if case .array = value {
                problem(at("items"), "must be one schema (tuple forms are outside the subset)")
            } else {
                items = compile(value, pointer: at("items"))
            }
        }

        var enumValues: [JSONValue]?
        if let value = m["enum"] {
            if case .array(let options) = value, !options.isEmpty {
                enumValues = options
            } else {
                problem(at("enum"), "must be a non-empty array")
            }
        }

        var pattern: CompiledPattern?
        if let value = m["pattern"] {
            if case .string(let source) = value {
                do {
                    pattern = try CompiledPattern(source)
                } catch {
                    problem(at("pattern"), "is not a valid regular expression: \(source)")
                }
            } else {
                problem(at("pattern"), "must be a string")
            }
        }

        if let value = m["format"], value.stringValue == nil { problem(at("format"), "must be a string") }

        var reference: String?
        if let value = m["$ref"] {
            if case .string(let target) = value, target.hasPrefix("#/$defs/"),
                !target.dropFirst(8).contains("/")
            {
                let name = JSONPointer.unescape(String(target.dropFirst(8)))
                reference = name
                references.append((at("$ref"), name))
            } else {
                problem(at("$ref"), "only local references of the form #/$defs/NAME are supported")
            }
        }

        return SchemaNode(
            types: types, properties: properties, required: required, additional: additional, items: items,
            enumValues: enumValues, constValue: m["const"],
            minLength: count(m, "minLength", pointer), maxLength: count(m, "maxLength", pointer),
            pattern: pattern,
            minimum: number(m, "minimum", pointer), maximum: number(m, "maximum", pointer),
            exclusiveMinimum: number(m, "exclusiveMinimum", pointer),
            exclusiveMaximum: number(m, "exclusiveMaximum", pointer),
            minItems: count(m, "minItems", pointer), maxItems: count(m, "maxItems", pointer),
            allOf: list(m, "allOf", pointer), anyOf: list(m, "anyOf", pointer), oneOf: list(m, "oneOf", pointer),
            reference: reference)
    }

    private mutating func count(_ m: [String: JSONValue], _ key: String, _ pointer: String) -> Int? {
        guard let value = m[key] else { return nil }
        guard let n = value.integerValue, n >= 0, n <= Int64(Int32.max) else {
            problem(JSONPointer.appending(pointer, key), "must be a non-negative integer")
            return nil
        }
        return Int(n)
    }

    private mutating func number(_ m: [String: JSONValue], _ key: String, _ pointer: String) -> Double? {
        guard let value = m[key] else { return nil }
        guard let d = value.doubleValue else {
            problem(JSONPointer.appending(pointer, key), "must be a number")
            return nil
        }
        return d
    }

    private mutating func list(_ m: [String: JSONValue], _ key: String, _ pointer: String) -> [SchemaNode] {
        guard let value = m[key] else { return [] }
        let at = JSONPointer.appending(pointer, key)
        guard case .array(let schemas) = value, !schemas.isEmpty else {
            problem(at, "must be a non-empty array of schemas")
            return []
        }
        return schemas.enumerated().map { compile($0.element, pointer: JSONPointer.appending(at, $0.offset)) }
    }
}
