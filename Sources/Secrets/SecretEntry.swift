import AirlockCore
import Foundation

/// What the store says about one secret: never its value.
public struct SecretEntry: Sendable, Hashable {
    /// The secret's name.
    public var name: String
    /// 1 when set, one more at every rotation.
    public var version: Int
    /// When it was first set (seconds since 1970).
    public var created: Double
    /// When it was last rotated, if ever.
    public var rotated: Double?
    /// When a tool call last received it, if ever.
    public var lastUsed: Double?

    /// The metadata as JSON (`secrets list --json`): name, version and ISO 8601 times.
    public var json: JSONValue {
        [
            "name": .string(name), "version": .integer(Int64(version)), "created": .string(Self.iso(created)),
            "rotated": rotated.map { .string(Self.iso($0)) } ?? .null,
            "last_used": lastUsed.map { .string(Self.iso($0)) } ?? .null,
        ]
    }

    /// `seconds` since 1970 as ISO 8601 in UTC (`2026-01-02T03:04:05Z`).
    public static func iso(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}
