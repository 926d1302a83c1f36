import AirlockCore

/// A rule's reason sentence with placeholders filled from the decision input.
///
/// Placeholders: `{tool}`, `{role}`, `{user}`, `{workflow}`, `{agent}`, `{risk}`, `{step}`,
/// `{labels}` (the labels in the run's context). Unknown placeholders are a load error, so a
/// typo never reaches a reviewer as literal braces.
struct ReasonTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case tool, role, user, workflow, agent, risk, step, labels
    }

    static let placeholders: [String: Part] = [
        "tool": .tool, "role": .role, "user": .user, "workflow": .workflow, "agent": .agent, "risk": .risk,
        "step": .step, "labels": .labels,
    ]

    let parts: [Part]

    /// Compiles `text`, or returns the unknown placeholder's name.
    static func compile(_ text: String) -> Result<ReasonTemplate, UnknownPlaceholder> {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
            let name = String(rest[rest.index(after: open)..<close])
            guard let part = placeholders[name] else { return .failure(UnknownPlaceholder(name: name)) }
            parts.append(part)
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return .success(ReasonTemplate(parts: parts))
    }

    struct UnknownPlaceholder: Error {
        let name: String
    }

    func render(_ input: PolicyInput) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let s): out += s
            case .tool: out += input.toolName
            case .role: out += input.principal.role
            case .user: out += input.principal.user
            case .workflow: out += input.principal.workflow
            case .agent: out += input.principal.agent
            case .risk: out += input.tool?.risk.rawValue ?? "unknown"
            case .step: out += String(input.context.step)
            case .labels: out += input.context.labels.sorted().joined(separator: ", ")
            }
        }
        return out
    }
}
