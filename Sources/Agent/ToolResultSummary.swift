import AirlockCore
import Secrets

/// A tool result cut down to what the model is shown when it is longer than the workflow's
/// `model.tool_result_bytes`: a small model's context is short, and a result that fills it leaves
/// no room for the task. The whole output stays in the trace (`tool.executed`); the model is told
/// how much it is not shown.
///
/// JSON output (a tool's usual shape: `{"matches": [...]}`, `{"rows": [...]}`) keeps its
/// structure: the longest list loses items from its end until the result fits, and a `note` says
/// how many of how many are shown. Anything else keeps its first bytes and a note.
public enum ToolResultSummary {
    /// The key of the note added to a summarised JSON object.
    public static let noteKey = "airlock_note"

    /// `content` within `budget` bytes, or `nil` when it already fits.
    public static func summarised(_ content: String, budget: Int) -> String? {
        let size = content.utf8.count
        guard size > budget else { return nil }
        if let parsed = try? JSONParser().parse(content), case .object(var members) = parsed,
            let (key, items) = members.filter({ $0.value.arrayValue != nil }).map({
                ($0.key, $0.value.arrayValue ?? [])
            })
            .max(by: { $0.1.count < $1.1.count || ($0.1.count == $1.1.count && $0.0 > $1.0) }),
            !items.isEmpty
        {
            // Halving, then one at a time: few parses for a long list, the most items that fit.
            var kept = items.count
            func attempt(_ count: Int) -> String {
                members[key] = .array(Array(items.prefix(count)))
                members[noteKey] = .string(
                    "\(count) of \(items.count) \(key) shown (the result was \(size) bytes, over this workflow's \(budget)); narrow the call to see others"
                )
                return JSONValue.object(members).canonicalString
            }
            while kept > 0, attempt(kept).utf8.count > budget { kept = kept > 8 ? kept / 2 : kept - 1 }
            let text = attempt(kept)
            if text.utf8.count <= budget { return text }
        }
        let note = "\n[… the rest is not shown: the result was \(size) bytes, over this workflow's \(budget)]"
        return SecretRedactor.prefix(content, bytes: max(0, budget - note.utf8.count)) + note
    }
}
