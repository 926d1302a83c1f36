import AirlockCore
import Replay
import Testing

/// The pieces `trace diff` is made of, on values alone: every differing leaf of two JSON values,
/// and how a long difference is shown.
@Suite("trace diff: JSON differences and difference text")
struct TraceDiffTextTests {
    @Test("all: every differing leaf of nested objects, with its pointer and both values")
    func nestedObjects() {
        let a: JSONValue = ["model": ["name": "m", "sampling": ["seed": 7, "temperature": 0.1]], "same": "x"]
        let b: JSONValue = ["model": ["name": "n", "sampling": ["seed": 8, "temperature": 0.1]], "same": "x"]
        let changes = JSONDifference.all(a, b)
        #expect(
            changes == [
                JSONDifference.Change(pointer: "/model/name", a: "m", b: "n"),
                JSONDifference.Change(pointer: "/model/sampling/seed", a: 7, b: 8),
            ])
        #expect(JSONDifference.all(a, a).isEmpty)
    }

    @Test("all: an absent key is absent, not null; a recorded null is null")
    func absentKeys() {
        let a: JSONValue = ["answer": .null, "only_a": 1]
        let b: JSONValue = ["only_b": ["x": true]]
        let changes = JSONDifference.all(a, b)
        #expect(
            changes == [
                JSONDifference.Change(pointer: "/answer", a: .null, b: nil),
                JSONDifference.Change(pointer: "/only_a", a: 1, b: nil),
                JSONDifference.Change(pointer: "/only_b", a: nil, b: ["x": true]),
            ])
        #expect(changes[0].json == ["pointer": "/answer", "a": .null])
        #expect(changes[2].json == ["pointer": "/only_b", "b": ["x": true]])
    }

    @Test("all: arrays of different length, element by element, the extra ones absent on the short side")
    func arraysOfDifferentLength() {
        let a: JSONValue = ["calls": [["id": "1", "tool": "t"], "same"]]
        let b: JSONValue = ["calls": [["id": "2", "tool": "t"], "same", 3, ["k": 1]]]
        #expect(
            JSONDifference.all(a, b) == [
                JSONDifference.Change(pointer: "/calls/0/id", a: "1", b: "2"),
                JSONDifference.Change(pointer: "/calls/2", a: nil, b: 3),
                JSONDifference.Change(pointer: "/calls/3", a: nil, b: ["k": 1]),
            ])
        // Skipped pointers are left out with everything under them.
        #expect(JSONDifference.all(a, b) { $0.hasSuffix("/id") }.map(\.pointer) == ["/calls/2", "/calls/3"])
        // first is the same walk, stopped at the first leaf (an absent side reads as null).
        #expect(JSONDifference.first(a, b) == ("/calls/0/id", "1", "2"))
        #expect(JSONDifference.first(["x": []], ["x": [1]]) == ("/x/0", .null, 1))
        #expect(JSONDifference.first(a, a) == ("", a, a))
    }

    @Test("a difference at character 5,000 of a 10,000-character string is shown where it is, on both sides")
    func longStringWindow() {
        let head = String(repeating: "abcdefghij", count: 500)
        let tail = String(repeating: "0123456789", count: 500)
        let a = head + "X" + tail.dropFirst()
        let b = head + "Y" + tail.dropFirst()
        #expect(a.count == 10_000 && b.count == 10_000)
        let (left, right) = DifferenceText.pair(.string(a), .string(b))
        #expect(left != right)
        #expect(left.hasPrefix("@5000 of 10000: \"…"))
        #expect(right.hasPrefix("@5000 of 10000: \"…"))
        #expect(left.contains("hijX123") && right.contains("hijY123"))
        #expect(left.hasSuffix("…\"") && left.count < 200)
        // Whole on request, and whole when short.
        #expect(DifferenceText.pair(.string(a), .string(b), full: true).a == JSONValue.string(a).canonicalString)
        #expect(DifferenceText.pair("short", "other") == ("\"short\"", "\"other\""))
    }

    @Test("difference text: a prefix, line breaks, absent sides and non-string values")
    func otherShapes() {
        let long = String(repeating: "x", count: 300)
        // B goes on where A ends: A's window ends there, B's shows what follows.
        let (a, b) = DifferenceText.pair(text: long, long + "\nmore")
        #expect(a == "@300 of 300: \"…" + String(repeating: "x", count: 60) + "\"")
        #expect(b == "@300 of 305: \"…" + String(repeating: "x", count: 60) + "\\nmore\"")
        #expect(DifferenceText.pair(nil, "v") == ("(absent)", "\"v\""))
        #expect(DifferenceText.pair(1, 2) == ("1", "2"))
        let array = JSONValue.array((0..<100).map { .integer($0) })
        var other = (0..<100).map { JSONValue.integer($0) }
        other[90] = 0
        let (x, y) = DifferenceText.pair(array, .array(other))
        #expect(x != y && x.contains(",90,") && y.contains(",0,91"))
        #expect(
            DifferenceText.alone(.string(long)) == "\"" + String(repeating: "x", count: 200) + "…\" (300 characters)")
    }
}
