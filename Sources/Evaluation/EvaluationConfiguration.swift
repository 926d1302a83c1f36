import Runs

/// One configuration a suite is run under: which model, and how tools are offered to it. Written
/// `MODEL[@MODE]` on the command line (`embedded@native`, `oracle`, `unix:/run/llama.sock@constrained`).
public struct EvaluationConfiguration: Sendable, Hashable, Codable {
    /// Which model answers.
    public enum Model: Sendable, Hashable {
        /// The home's embedded model (as `airlock run` without `--model`).
        case embedded
        /// Each task's own scripted oracle (its `oracle:` file).
        case oracle
        /// An endpoint as `airlock run --model` takes it.
        case endpoint(String)
    }

    /// Which model answers.
    public var model: Model
    /// `auto`, `native` or `constrained` (as `run --tool-calling`).
    public var toolCalling: String

    /// The tool-calling modes a configuration may name.
    public static let modes = ["auto", "native", "constrained"]

    /// Creates a configuration.
    public init(model: Model, toolCalling: String = "auto") {
        self.model = model
        self.toolCalling = toolCalling
    }

    /// Parses `MODEL[@MODE]`.
    /// - Throws: ``RunsError`` `usage` for an empty model or an unknown mode.
    public static func parse(_ text: String, defaultMode: String = "auto") throws(RunsError)
        -> EvaluationConfiguration
    {
        var model = text
        var mode = defaultMode
        if let at = text.lastIndex(of: "@"), modes.contains(String(text[text.index(after: at)...])) {
            model = String(text[..<at])
            mode = String(text[text.index(after: at)...])
        }
        guard modes.contains(mode) else {
            throw RunsError(.usage, "--tool-calling \(mode): expected one of \(modes.joined(separator: ", "))")
        }
        switch model {
        case "": throw RunsError(.usage, "\(text): names no model (embedded, oracle or an endpoint)")
        case "embedded": return EvaluationConfiguration(model: .embedded, toolCalling: mode)
        case "oracle": return EvaluationConfiguration(model: .oracle, toolCalling: mode)
        default: return EvaluationConfiguration(model: .endpoint(model), toolCalling: mode)
        }
    }

    /// `embedded@native`: how the report names the configuration.
    public var label: String { "\(modelName)@\(toolCalling)" }

    /// `embedded`, `oracle` or the endpoint.
    public var modelName: String {
        switch model {
        case .embedded: "embedded"
        case .oracle: "oracle"
        case .endpoint(let text): text
        }
    }

    enum CodingKeys: String, CodingKey {
        case model
        case toolCalling = "tool_calling"
        case label
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let model = try container.decode(String.self, forKey: .model)
        let mode = try container.decode(String.self, forKey: .toolCalling)
        do {
            self = try Self.parse(model, defaultMode: mode)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .model, in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(modelName, forKey: .model)
        try container.encode(toolCalling, forKey: .toolCalling)
        try container.encode(label, forKey: .label)
    }
}
