import AirlockCore

/// The digest that binds an approval to one exact call.
///
/// An approval given for `{tool, arguments}` is honoured only for a call whose digest is the same,
/// so a replayed approval with different arguments (or for another tool) does not count.
public enum ArgumentDigest {
    /// Hex SHA-256 of the canonical JSON of `{"arguments": arguments, "tool": tool}`.
    /// - Parameters:
    ///   - tool: the tool name as proposed.
    ///   - arguments: the proposed arguments.
    /// - Returns: 64 lowercase hex digits.
    public static func digest(tool: String, arguments: JSONValue) -> String {
        let call: JSONValue = ["tool": .string(tool), "arguments": arguments]
        return SHA256.hex(call.canonicalBytes)
    }
}
