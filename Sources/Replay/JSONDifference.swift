import AirlockCore

/// Where two JSON values first differ, walking objects in sorted key order.
public enum JSONDifference {
    /// The JSON pointer of the first difference and the two values there (`null` for an absent
    /// side); `("", a, b)` when they differ at the top or are equal.
    /// - Parameters:
    ///   - a: one value.
    ///   - b: the other.
    ///   - pointer: the pointer of `a` and `b` inside their documents (default the root).
    public static func first(_ a: JSONValue, _ b: JSONValue, pointer: String = "") -> (String, JSONValue, JSONValue) {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() where x[key] != y[key] {
                return first(x[key] ?? .null, y[key] ?? .null, pointer: JSONPointer.appending(pointer, key))
            }
        case (.array(let x), .array(let y)):
            for index in 0..<max(x.count, y.count) {
                let left = index < x.count ? x[index] : .null
                let right = index < y.count ? y[index] : .null
                if index >= x.count || index >= y.count || left != right {
                    return first(left, right, pointer: JSONPointer.appending(pointer, index))
                }
            }
        default:
            break
        }
        return (pointer, a, b)
    }
}
