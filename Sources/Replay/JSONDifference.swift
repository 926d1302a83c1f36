import AirlockCore

/// Where two JSON values differ, walking objects in sorted key order and arrays index by index.
///
/// One walk serves both questions: ``first(_:_:pointer:)`` (where a replay parts from its record)
/// stops at the first differing leaf, ``all(_:_:pointer:skipping:)`` (what `trace diff` lists)
/// goes on to the last. A leaf is a value whose two sides are not both objects or both arrays;
/// arrays are compared position by position (an element inserted at the front shows as every
/// later position differing, and the extra positions as absent on the shorter side).
public enum JSONDifference {
    /// One differing leaf: its JSON pointer and the value on each side, `nil` where that side
    /// has nothing there (an absent key, or a position past the end of an array).
    public struct Change: Sendable, Hashable {
        /// The JSON pointer of the leaf ("" for the whole value).
        public var pointer: String
        /// The value in A, or `nil` when A has none there.
        public var a: JSONValue?
        /// The value in B, or `nil` when B has none there.
        public var b: JSONValue?

        /// Creates a change.
        /// - Parameters:
        ///   - pointer: the leaf's JSON pointer.
        ///   - a: A's value, `nil` when absent.
        ///   - b: B's value, `nil` when absent.
        public init(pointer: String, a: JSONValue?, b: JSONValue?) {
            self.pointer = pointer
            self.a = a
            self.b = b
        }

        /// As JSON: `{"pointer", "a", "b"}`, a side absent when it has nothing there (so an absent
        /// value and a recorded `null` stay apart).
        public var json: JSONValue {
            var out: [String: JSONValue] = ["pointer": .string(pointer)]
            if let a { out["a"] = a }
            if let b { out["b"] = b }
            return .object(out)
        }
    }

    /// The JSON pointer of the first difference and the two values there (`null` for an absent
    /// side); `(pointer, a, b)` when they differ at the top or are equal.
    /// - Parameters:
    ///   - a: one value.
    ///   - b: the other.
    ///   - pointer: the pointer of `a` and `b` inside their documents (default the root).
    public static func first(_ a: JSONValue, _ b: JSONValue, pointer: String = "") -> (String, JSONValue, JSONValue) {
        var found: [Change] = []
        walk(a, b, pointer: pointer, limit: 1, skipping: { _ in false }, into: &found)
        guard let change = found.first else { return (pointer, a, b) }
        return (change.pointer, change.a ?? .null, change.b ?? .null)
    }

    /// Every differing leaf, in walk order.
    /// - Parameters:
    ///   - a: A's value, `nil` when A has none.
    ///   - b: B's value, `nil` when B has none.
    ///   - pointer: the pointer of `a` and `b` inside their documents (default the root).
    ///   - skip: pointers not compared (with everything under them); default none.
    /// - Returns: the changes, empty when the values are equal outside the skipped pointers.
    public static func all(
        _ a: JSONValue?, _ b: JSONValue?, pointer: String = "", skipping skip: (String) -> Bool = { _ in false }
    ) -> [Change] {
        var found: [Change] = []
        walk(a, b, pointer: pointer, limit: .max, skipping: skip, into: &found)
        return found
    }

    /// Appends the differing leaves under `pointer` to `found` until it holds `limit`.
    private static func walk(
        _ a: JSONValue?, _ b: JSONValue?, pointer: String, limit: Int, skipping skip: (String) -> Bool,
        into found: inout [Change]
    ) {
        guard found.count < limit, a != b, !skip(pointer) else { return }
        switch (a, b) {
        case (.object(let x)?, .object(let y)?):
            for key in Set(x.keys).union(y.keys).sorted() where x[key] != y[key] {
                walk(
                    x[key], y[key], pointer: JSONPointer.appending(pointer, key), limit: limit, skipping: skip,
                    into: &found)
                if found.count >= limit { return }
            }
        case (.array(let x)?, .array(let y)?):
            for index in 0..<max(x.count, y.count) {
                // Not `index < x.count ? x[index] : nil`: JSONValue takes a nil literal as null,
                // and a position past the end is absent, not null.
                let left = x.dropFirst(index).first
                let right = y.dropFirst(index).first
                walk(
                    left, right, pointer: JSONPointer.appending(pointer, index), limit: limit, skipping: skip,
                    into: &found)
                if found.count >= limit { return }
            }
        default:
            found.append(Change(pointer: pointer, a: a, b: b))
        }
    }
}
