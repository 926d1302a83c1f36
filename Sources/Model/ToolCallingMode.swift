/// How tools are offered to the model and how its calls come back.
///
/// - `native`: the OpenAI `tools` field; the server's chat template presents them and the model
///   answers with `tool_calls`. Tool names are mapped to `[A-Za-z0-9_-]{1,64}` on the wire
///   (``ToolNameMapping``) and back.
/// - `constrained`: the tools are described in the system prompt and the reply is constrained by
///   `response_format` to one JSON object, `{"tool": NAME, "arguments": {…}}` or
///   `{"final": TEXT}` (``ConstrainedToolCalling``); for models whose template ignores `tools`.
public enum ToolCallingMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// The OpenAI `tools` field and `tool_calls` replies.
    case native
    /// Tools in the prompt, replies constrained to a JSON Schema union.
    case constrained

    /// The mode to use: the explicit choice, else the site's, else `defaultMode`.
    /// - Parameters:
    ///   - requested: `auto` (or `nil`), `native` or `constrained`, as given on the command line.
    ///   - site: the site configuration's `tool_calling`, if any.
    ///   - defaultMode: the mode for this model when nothing is configured (constrained for the
    ///     embedded default model, native otherwise: the caller knows which model it runs).
    /// - Throws: ``ModelError`` `invalid-setting` for a word that is not a mode.
    public static func resolve(requested: String?, site: ToolCallingMode?, defaultMode: ToolCallingMode)
        throws(ModelError) -> ToolCallingMode
    {
        switch requested {
        case nil, "auto": return site ?? defaultMode
        case .some(let text):
            guard let mode = ToolCallingMode(rawValue: text) else {
                throw ModelError(
                    .invalidSetting, "tool calling mode '\(text)' is not one of auto, native, constrained")
            }
            return mode
        }
    }
}
