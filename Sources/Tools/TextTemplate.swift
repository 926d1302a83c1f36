import AirlockCore

/// Fixed text that may contain `${workspace}` and `${dataset:NAME}`, expanded to their paths inside
/// the sandbox (`/workspace`, `/data/NAME`). Used for argv literals and environment values.
///
/// A `$` not followed by `{` is literal; `${` must close with `}` and name a known variable.
public struct TextTemplate: Sendable, Hashable {
    /// A piece of the text.
    public enum Segment: Sendable, Hashable {
        case text(String)
        case variable(PathVariable)
    }

    /// The pieces in order.
    public var segments: [Segment]

    /// The variables used.
    public var variables: [PathVariable] {
        segments.compactMap { if case .variable(let v) = $0 { v } else { nil } }
    }

    /// The text with every variable replaced by its path inside the sandbox.
    public var expanded: String {
        segments.map {
            switch $0 {
            case .text(let s): s
            case .variable(let v): v.insidePath
            }
        }.joined()
    }

    /// Parses `text`; NUL bytes and malformed or unknown variables are refused.
    static func parse(_ text: String) -> Result<TextTemplate, TemplateError> {
        guard !text.utf8.contains(0) else { return .failure(TemplateError("must not contain a NUL byte")) }
        var segments: [Segment] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<start.lowerBound]))) }
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else {
                return .failure(TemplateError("unterminated ${ in \"\(text)\""))
            }
            switch PathVariable.parse(String(afterOpen[..<close])) {
            case .success(let variable): segments.append(.variable(variable))
            case .failure(let error): return .failure(error)
            }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return .success(TextTemplate(segments: segments))
    }
}
