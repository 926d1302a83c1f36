import AirlockCore
import Policy
import Tools

/// The tools offered in constrained tool calling, with what the policy already knows compiled
/// into their argument schemas.
///
/// For each workflow tool, ``Policy/necessaryConditions(for:principal:)`` says which calls the
/// policy could allow at all: a tool every call of which is denied is left out, and the manifest's
/// argument schema is narrowed by the requirements every allowed call meets (`required`, `type`,
/// `const`, `enum`, `pattern`, integer `minimum`/`maximum`, string `minLength`/`maxLength`). When
/// every permit that could match constrains the arguments, the schema becomes an `anyOf` of one
/// narrowed schema per permit. A call the schema excludes is one the policy or the manifest schema
/// would refuse; the policy still judges every call.
///
/// Narrowing stays where it is sound and readable by a grammar-constrained sampler: a policy
/// regex is carried over only when it uses the portable subset (``grammarPattern(_:)``);
/// conflicting or unrepresentable requirements are dropped, which only makes the schema wider.
public struct ConstrainedToolSchema: Sendable {
    /// The tools offered, in the OpenAI shape, `parameters` narrowed.
    public var tools: [JSONValue]
    /// Tools left out, with the rules that deny every call of them.
    public var excluded: [String: [String]]

    /// Compiles the tools of a run.
    /// - Parameters:
    ///   - manifests: the workflow's tools, in order.
    ///   - policy: the workflow's policy.
    ///   - principal: who runs the workflow.
    public init(manifests: [ToolManifest], policy: Policy, principal: PolicyInput.Principal) {
        var tools: [JSONValue] = []
        var excluded: [String: [String]] = [:]
        for manifest in manifests {
            let facts = manifest.facts
            let requirements = policy.necessaryConditions(
                for: ToolFacts(
                    name: facts.name, version: facts.version, risk: facts.risk, readsLabels: facts.readsLabels,
                    outputLabels: facts.outputLabels, writesOutsideWorkspace: facts.writesOutsideWorkspace,
                    pinnedDigest: facts.pinnedDigest, currentDigest: facts.pinnedDigest, network: facts.network),
                principal: principal)
            if requirements.isAlwaysDenied {
                excluded[manifest.name] = requirements.deniedBy
                continue
            }
            let parameters = Self.narrow(manifest.input.document, by: requirements)
            tools.append([
                "type": "function",
                "function": [
                    "name": .string(manifest.name), "description": .string(manifest.description),
                    "parameters": parameters,
                ],
            ])
        }
        self.tools = tools
        self.excluded = excluded
    }

    /// `schema` narrowed by `requirements`: the conjunction applied, then one variant per
    /// alternative (`anyOf`) when there are alternatives.
    public static func narrow(_ schema: JSONValue, by requirements: CallRequirements) -> JSONValue {
        var base = schema
        for requirement in requirements.all { base = apply(requirement, to: base, tokens: requirement.tokens[...]) }
        guard let alternatives = requirements.anyOf else { return base }
        var variants: [JSONValue] = []
        for alternative in alternatives {
            var variant = base
            for requirement in alternative {
                variant = apply(requirement, to: variant, tokens: requirement.tokens[...])
            }
            if !variants.contains(variant) { variants.append(variant) }
        }
        return variants.count == 1 ? variants[0] : ["anyOf": .array(variants)]
    }

    /// Applies `requirement` at `tokens` below `schema` (an object schema with `properties`).
    static func apply(_ requirement: ArgumentRequirement, to schema: JSONValue, tokens: ArraySlice<String>)
        -> JSONValue
    {
        guard let token = tokens.first, case .object(var members) = schema, !isComposite(members) else {
            return schema
        }
        if let type = members["type"], type != "object" { return schema }
        var properties = members["properties"]?.objectValue ?? [:]
        let property: JSONValue
        if let existing = properties[token] {
            property = existing
        } else if members["additionalProperties"] == .bool(false) {
            // The manifest schema refuses the argument already: nothing to add.
            return schema
        } else {
            property = [:]
        }
        let rest = tokens.dropFirst()
        properties[token] =
            rest.isEmpty ? narrowValue(property, requirement) : apply(requirement, to: property, tokens: rest)
        members["properties"] = .object(properties)
        if requirement.presence == .required {
            var required = members["required"]?.arrayValue ?? []
            if !required.contains(.string(token)) { required.append(.string(token)) }
            members["required"] = .array(required)
        }
        return .object(members)
    }

    private static func isComposite(_ members: [String: JSONValue]) -> Bool {
        ["$ref", "oneOf", "anyOf", "allOf", "const", "enum"].contains { members[$0] != nil }
    }

    /// One value's schema with a requirement's checks added where they are representable.
    static func narrowValue(_ schema: JSONValue, _ requirement: ArgumentRequirement) -> JSONValue {
        guard case .object(var members) = schema, members["$ref"] == nil else { return schema }
        if let wanted = requirement.type {
            switch members["type"]?.stringValue {
            case nil where members["type"] == nil: members["type"] = .string(wanted)
            case "number" where wanted == "integer": members["type"] = "integer"
            default: break
            }
        }
        let type = members["type"]?.stringValue
        if let equals = requirement.equals { members["const"] = equals }
        if let allowed = requirement.oneOf, !allowed.isEmpty {
            if let existing = members["enum"]?.arrayValue {
                let both = allowed.filter(existing.contains)
                if !both.isEmpty { members["enum"] = .array(both) }
            } else {
                members["enum"] = .array(allowed)
            }
        }
        if type == "string" || type == nil {
            let pattern =
                requirement.regex.flatMap(grammarPattern) ?? requirement.pathPattern.map { "^(?:" + $0 + ")$" }
            let existing = members["pattern"]?.stringValue
            if let pattern, existing.map(isAnchored) != true {
                members["pattern"] = .string(pattern)
                if type == nil { members["type"] = "string" }
            }
        }
        if type == "integer" {
            if let minimum = requirement.minimum, abs(minimum) < 9.0e18 {
                tighten(&members, "minimum", Int64(minimum.rounded(.up)), larger: true)
            }
            if let maximum = requirement.maximum, abs(maximum) < 9.0e18 {
                tighten(&members, "maximum", Int64(maximum.rounded(.down)), larger: false)
            }
        }
        if type == "string" {
            if let minLength = requirement.minLength { tighten(&members, "minLength", Int64(minLength), larger: true) }
            if let maxLength = requirement.maxLength { tighten(&members, "maxLength", Int64(maxLength), larger: false) }
        }
        return .object(members)
    }

    private static func tighten(_ members: inout [String: JSONValue], _ key: String, _ value: Int64, larger: Bool) {
        let current: Double? =
            switch members[key] {
            case .integer(let i): Double(i)
            case .number(let d): d
            default: nil
            }
        if let current, larger ? current >= Double(value) : current <= Double(value) { return }
        members[key] = .integer(value)
    }

    private static func isAnchored(_ pattern: String) -> Bool { pattern.hasPrefix("^") && pattern.hasSuffix("$") }

    /// A policy regex (ICU, whole-string) as an anchored JSON Schema `pattern` that llama.cpp's
    /// grammar conversion reads the same way, or `nil` when it uses anything outside the portable
    /// subset: literals, positive character classes (ranges, escaped `\-`, `\[`, `\]`), `(…)` and
    /// `(?:…)` groups, `|`, `*`, `+`, `?`, `{m,n}`, and backslash escapes of metacharacters.
    /// Left out: shorthands (`\d`, `\w`, `\s`), flags (`(?i)`), look-arounds and anchors, which
    /// one of the two engines reads differently or not at all; and `.`, negated classes, `"` and
    /// `\`, since the grammar applies a pattern to the string's JSON text, where they would let
    /// the model end the string early or write a broken escape.
    public static func grammarPattern(_ pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        let metacharacters: Set<Unicode.Scalar> = [
            "^", "$", ".", "[", "]", "(", ")", "|", "{", "}", "*", "+", "?", "\\", "-",
        ]
        var i = 0
        var inClass = false
        while i < scalars.count {
            let c = scalars[i]
            if c.value < 0x20 || c == "\"" || c == "." { return nil }
            if c == "\\" {
                guard i + 1 < scalars.count, metacharacters.contains(scalars[i + 1]) else { return nil }
                if scalars[i + 1] == "\\" || (inClass && !["[", "]", "-"].contains(scalars[i + 1])) { return nil }
                i += 2
                continue
            }
            if inClass {
                if c == "[" || (c == "&" && i + 1 < scalars.count && scalars[i + 1] == "&") { return nil }
                if c == "]" { inClass = false }
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                i += 1
                if i < scalars.count, scalars[i] == "^" { return nil }
                if i < scalars.count, scalars[i] == "]" { return nil }
                continue
            case "(":
                if i + 1 < scalars.count, scalars[i + 1] == "?" {
                    guard i + 2 < scalars.count, scalars[i + 2] == ":" else { return nil }
                    i += 3
                    continue
                }
            case "^", "$", "]", "}":
                return nil
            case "{":
                guard let close = scalars[i...].firstIndex(of: "}") else { return nil }
                let inside = String(String.UnicodeScalarView(scalars[(i + 1)..<close]))
                let parts = inside.split(separator: ",", omittingEmptySubsequences: false)
                guard (1...2).contains(parts.count), !inside.isEmpty,
                    parts.allSatisfy({ $0.isEmpty || Int($0) != nil }), !parts[0].isEmpty
                else { return nil }
                i = close + 1
                continue
            default:
                break
            }
            i += 1
        }
        return inClass ? nil : "^(?:" + pattern + ")$"
    }
}
