/// A reversible mapping of tool names to the names OpenAI-style APIs accept for functions
/// (`^[A-Za-z0-9_-]{1,64}$`), built from the tools offered in one request.
///
/// A name that is already valid keeps itself. Any other has each character outside the set
/// replaced by `_` and is cut to ``maxLength``; when that collides with another tool's wire name,
/// `-2`, `-3`, … is appended (cutting further to stay within the length). Valid names are
/// placed first, so `logs_search` keeps its name and `logs.search` becomes `logs_search-2`.
/// Built from the same list in the same order, the mapping is the same: the request and the reply
/// of one exchange use one mapping.
public struct ToolNameMapping: Sendable, Hashable {
    /// The longest wire name accepted. Default 64 (the OpenAI limit).
    public let maxLength: Int
    /// Wire name by tool name.
    public private(set) var wireNames: [String: String] = [:]
    /// Tool name by wire name.
    public private(set) var toolNames: [String: String] = [:]

    /// Builds the mapping for `names` (duplicates are mapped once).
    /// - Parameters:
    ///   - names: the tool names offered, in order.
    ///   - maxLength: the longest wire name (default 64).
    public init(names: [String], maxLength: Int = 64) {
        self.maxLength = max(maxLength, 8)
        let valid = names.filter(isValidWireName)
        for name in valid where wireNames[name] == nil { assign(name, to: name) }
        for name in names where wireNames[name] == nil {
            let base = Self.sanitized(name, maxLength: self.maxLength)
            var candidate = base
            var suffix = 2
            while toolNames[candidate] != nil {
                let tail = "-\(suffix)"
                candidate = String(base.prefix(self.maxLength - tail.count)) + tail
                suffix += 1
            }
            assign(name, to: candidate)
        }
    }

    private mutating func assign(_ name: String, to wire: String) {
        wireNames[name] = wire
        toolNames[wire] = name
    }

    /// Whether `name` is acceptable on the wire as it is.
    public func isValidWireName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxLength && name.unicodeScalars.allSatisfy(Self.isWireScalar)
    }

    /// The name sent for tool `name`; a name not in the mapping is sent as it is.
    public func wireName(for name: String) -> String { wireNames[name] ?? name }

    /// The tool name for `wire` as the model sent it; a name the mapping does not know comes back
    /// unchanged (and the agent's registry lookup refuses it).
    public func toolName(for wire: String) -> String { toolNames[wire] ?? wire }

    private static func isWireScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-"
    }

    private static func sanitized(_ name: String, maxLength: Int) -> String {
        var result = ""
        for scalar in name.unicodeScalars.prefix(maxLength) {
            result.unicodeScalars.append(isWireScalar(scalar) ? scalar : "_")
        }
        return result.isEmpty ? "tool" : result
    }
}
