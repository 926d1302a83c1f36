import AirlockCore
import Foundation
import MCP

/// The crossing between the MCP SDK's `Value` and Airlock's `JSONValue`: through JSON text, so
/// that both sides keep their own number and string rules.
public enum MCPJSON {
    /// `json` as an MCP value (`null` if the SDK cannot read it back, which canonical JSON never is).
    public static func value(_ json: JSONValue) -> Value {
        (try? JSONDecoder().decode(Value.self, from: Data(json.canonicalBytes))) ?? .null
    }

    /// An MCP value as JSON (`nil` when it holds what JSON cannot: data).
    public static func json(_ value: Value) -> JSONValue? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return nil }
        return try? JSONParser().parse(Array(data))
    }
}
