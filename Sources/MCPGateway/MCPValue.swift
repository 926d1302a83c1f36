import AirlockCore
import Foundation
import MCP

/// The one crossing between the MCP SDK's `Value` and Airlock's `JSONValue`: through JSON text,
/// so that both sides keep their own number and string rules.
enum MCPValue {
    /// `json` as an MCP value (`null` if the SDK cannot read it back, which canonical JSON never is).
    static func value(_ json: JSONValue) -> Value {
        (try? JSONDecoder().decode(Value.self, from: Data(json.canonicalBytes))) ?? .null
    }

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
