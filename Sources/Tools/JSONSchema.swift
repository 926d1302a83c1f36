import AirlockCore
import Foundation

/// A compiled JSON Schema in the subset tools need, and its validator.
///
/// Supported: `type` (a name or an array of names; `integer` is a whole number, `number` any
/// number), `properties`, `required`, `additionalProperties` (boolean or schema), `items` (one
/// schema), `enum`, `const`, `minLength`/`maxLength` (in Unicode scalars), `pattern` (searched,
/// not anchored), `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` (numbers),
/// `minItems`/`maxItems`, `allOf`/`anyOf`/`oneOf`, local `$ref` to `#/$defs/NAME`, boolean
/// schemas. `format` and `title`, `description`, `default`, `examples`, `$comment`, `$schema`,
/// `$id` are annotations. Every other keyword is refused when the schema is compiled, so a
/// manifest never carries a constraint that is silently not enforced.
public struct JSONSchema: Sendable {
    /// The schema as written.
    public let document: JSONValue
    let root: SchemaNode
    let definitions: [String: SchemaNode]
    /// How deep `$ref`s and nested schemas may go while validating one instance. Default 64.
    public var maxDepth: Int

    /// The keywords Airlock understands, in the order the documentation lists them.
    public static let supportedKeywords: [String] = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minLength",
        "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems",
        "maxItems", "allOf", "anyOf", "oneOf", "$ref", "$defs",
    ]

    /// Keywords accepted and ignored for validation.
    public static let annotationKeywords: Set<String> = [
        "format", "title", "description", "default", "examples", "$comment", "$schema", "$id",
    ]

    /// Compiles `document`; every keyword outside the subset and every malformed value is reported.
    /// - Parameters:
    ///   - document: the schema.
    ///   - maxDepth: the deepest nesting of schemas and `$ref`s followed while validating (default 64).
    /// - Returns: the schema, or every problem found (pointers relative to the schema's root).
    public static func compile(_ document: JSONValue, maxDepth: Int = 64) -> Result<JSONSchema, SchemaProblems> {
        var compiler = SchemaCompiler()
        var definitions: [String: SchemaNode] = [:]
        if case .object(let members) = document, let defs = members["$defs"] {
            if case .object(let entries) = defs {
                for (name, schema) in entries {
                    definitions[name] = compiler.compile(schema, pointer: JSONPointer.appending("/$defs", name))
                }
            } else {
                compiler.problem("/$defs", "must be an object of named schemas")
            }
        }
        let root = compiler.compile(document, pointer: "", isRoot: true)
        for (pointer, name) in compiler.references where definitions[name] == nil {
            compiler.problem(pointer, "refers to #/$defs/\(name), which is not defined")
        }
        guard compiler.problems.isEmpty else { return .failure(SchemaProblems(problems: compiler.problems)) }
        return .success(JSONSchema(document: document, root: root, definitions: definitions, maxDepth: maxDepth))
    }

    /// Validates `instance`; an empty result means it is valid.
    /// - Returns: every violation, each with the instance's JSON pointer (`/paths/2: must be a string`).
    public func validate(_ instance: JSONValue) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        SchemaValidator(definitions: definitions, maxDepth: maxDepth)
            .check(root, instance, pointer: "", depth: 0, into: &problems)
        return problems
    }
}

/// Every problem found while compiling a schema.
public struct SchemaProblems: Error, Sendable, Hashable {
    /// The problems, pointers relative to the schema's root.
    public var problems: [FieldProblem]
}

/// A schema `pattern`, compiled once with ECMA-262's meaning (what JSON Schema specifies and
/// what a manifest's author reads) on ICU's engine; `NSRegularExpression` is immutable and
/// documented as safe to use from several threads, which is what makes the `@unchecked
/// Sendable` sound.
///
/// Where the two differ in a way that lets a value through, the pattern is rewritten first (see
/// ``icuPattern(_:)``).
final class CompiledPattern: @unchecked Sendable {
    let source: String
    private let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        regex = try NSRegularExpression(pattern: Self.icuPattern(source))
    }

    /// `source` rewritten so that ICU matches what ECMA-262 does: `$` outside a character class
    /// is the end of the input (`\z`; ICU's `$` also matches before a final newline, so
    /// `^[a-z]+$` accepted `"abc\n"`), and `\d`, `\D`, `\w`, `\W` are ASCII (ICU's take every
    /// Unicode digit and letter, so `^\d+$` accepted Arabic-Indic digits).
    static func icuPattern(_ source: String) -> String {
        let scalars = Array(source.unicodeScalars)
        var out = ""
        var inClass = false
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            if s == "\\", i + 1 < scalars.count {
                let next = scalars[i + 1]
                switch (next, inClass) {
                case ("d", false): out += "[0-9]"
                case ("D", false): out += "[^0-9]"
                case ("w", false): out += "[A-Za-z0-9_]"
                case ("W", false): out += "[^A-Za-z0-9_]"
                case ("d", true): out += "0-9"
                case ("w", true): out += "A-Za-z0-9_"
                default: out += "\\" + String(next)
                }
                i += 2
                continue
            }
            if inClass {
                if s == "]" { inClass = false }
            } else if s == "[" {
                inClass = true
                out.unicodeScalars.append(s)
                // A leading `]` or `^]` is a literal, not the class's end.
                if i + 1 < scalars.count, scalars[i + 1] == "^" {
                    out += "^"
                    i += 1
                }
                if i + 1 < scalars.count, scalars[i + 1] == "]" {
                    out += "\\]"
                    i += 1
                }
                i += 1
                continue
            } else if s == "$" {
                out += "\\z"
                i += 1
                continue
            }
            out.unicodeScalars.append(s)
            i += 1
        }
        return out
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// One compiled schema node. Immutable after compilation.
final class SchemaNode: Sendable {
    enum Additional: Sendable {
        case allowed
        case forbidden
        case schema(SchemaNode)
    }

    let alwaysValid: Bool?
    let types: [String]?
    let properties: [(String, SchemaNode)]
    let required: [String]
    let additional: Additional
    let items: SchemaNode?
    let enumValues: [JSONValue]?
    let constValue: JSONValue?
    let minLength: Int?
    let maxLength: Int?
    let pattern: CompiledPattern?
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Double?
    let exclusiveMaximum: Double?
    let minItems: Int?
    let maxItems: Int?
    let allOf: [SchemaNode]
    let anyOf: [SchemaNode]
    let oneOf: [SchemaNode]
    let reference: String?

    init(
        alwaysValid: Bool? = nil, types: [String]? = nil, properties: [(String, SchemaNode)] = [],
        required: [String] = [], additional: Additional = .allowed, items: SchemaNode? = nil,
        enumValues: [JSONValue]? = nil, constValue: JSONValue? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        pattern: CompiledPattern? = nil, minimum: Double? = nil, maximum: Double? = nil,
        exclusiveMinimum: Double? = nil, exclusiveMaximum: Double? = nil, minItems: Int? = nil,
        maxItems: Int? = nil, allOf: [SchemaNode] = [], anyOf: [SchemaNode] = [], oneOf: [SchemaNode] = [],
        reference: String? = nil
    ) {
        self.alwaysValid = alwaysValid
        self.types = types
        self.properties = properties
        self.required = required
        self.additional = additional
        self.items = items
        self.enumValues = enumValues
        self.constValue = constValue
        self.minLength = minLength
        self.maxLength = maxLength
        self.pattern = pattern
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.minItems = minItems
        self.maxItems = maxItems
        self.allOf = allOf
        self.anyOf = anyOf
        self.oneOf = oneOf
        self.reference = reference
    }
}
