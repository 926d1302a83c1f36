import AirlockCore

/// One element of a manifest's argv template.
///
/// Arguments reach argv only through these forms, never through a shell, so a value can never
/// become an option: positional values are only allowed after a literal `--`, and option values
/// are glued to their name (`--max=5`). An argument that is absent (or `null`) adds nothing; an
/// array adds one element per item (`--tag=a --tag=b`, or one positional per item).
public enum ArgvElement: Sendable, Hashable {
    /// Fixed text, possibly with `${workspace}` / `${dataset:NAME}` (their paths inside the sandbox).
    case literal(TextTemplate)
    /// The argument's value as its own element(s); only allowed after a literal `--`.
    case positional(argument: String)
    /// `NAME=VALUE`, e.g. `--max-matches=5`.
    case option(name: String, argument: String)
    /// `NAME` alone when the boolean argument is `true`, nothing otherwise.
    case flag(name: String, argument: String)

    /// The argument this element reads, if any.
    public var argument: String? {
        switch self {
        case .literal: nil
        case .positional(let a), .option(_, let a), .flag(_, let a): a
        }
    }

    /// Whether `name` can be an option or flag name: `--` then a letter or digit, then letters,
    /// digits, `-` or `_`.
    public static func isOptionName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard scalars.count > 2, scalars.count <= 64, name.hasPrefix("--") else { return false }
        return scalars.dropFirst(2).enumerated().allSatisfy { index, c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || (index > 0 && (c == "-" || c == "_")))
        }
    }

    /// Renders a template with validated arguments.
    /// - Parameters:
    ///   - template: the manifest's argv elements.
    ///   - arguments: the call's arguments (an object, already validated against the input schema).
    /// - Returns: the argv elements after the program.
    /// - Throws: ``ToolsError`` (`invalid-arguments`) when a value cannot be passed (contains NUL).
    public static func render(_ template: [ArgvElement], arguments: JSONValue) throws(ToolsError) -> [String] {
        var argv: [String] = []
        for (index, element) in template.enumerated() {
            let pointer = "/argv/\(index)"
            switch element {
            case .literal(let text):
                argv.append(text.expanded)
            case .positional(let name):
                argv += try values(of: name, in: arguments, pointer: pointer)
            case .option(let option, let name):
                argv += try values(of: name, in: arguments, pointer: pointer).map { option + "=" + $0 }
            case .flag(let flag, let name):
                if arguments[name] == .bool(true) { argv.append(flag) }
            }
        }
        return argv
    }

    private static func values(of name: String, in arguments: JSONValue, pointer: String) throws(ToolsError)
        -> [String]
    {
        let items: [JSONValue]
        switch arguments[name] {
        case nil, .null?: return []
        case .array(let array)?: items = array
        case let value?: items = [value]
        }
        var out: [String] = []
        for item in items {
            let text: String
            switch item {
            case .string(let s): text = s
            default: text = item.canonicalString
            }
            guard !text.utf8.contains(0) else {
                throw ToolsError(
                    .invalidArguments, "argument \"\(name)\" contains a NUL byte and cannot be passed in argv",
                    problems: [FieldProblem(pointer: JSONPointer.appending("", name), message: "must not contain NUL")])
            }
            out.append(text)
        }
        return out
    }
}
