import AirlockCore
import Foundation
import MCP

/// A `tools/call`'s arguments and a result's text as JSON (`JSONValue` → `Value` is MCPTools'
/// `MCPJSON.value`, the one crossing both directions of MCP use).
enum MCPValue {
    /// An MCP `tools/call`'s arguments as JSON text (an empty object when there are none).
    static func text(_ arguments: [String: Value]?) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let arguments, let data = try? encoder.encode(arguments) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `text` as a JSON object, or `nil` when it is not one.
    static func object(_ text: String) -> JSONValue? {
        guard let value = try? JSONParser().parse(text), value.objectValue != nil else { return nil }
        return value
    }
}
