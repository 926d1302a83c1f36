import Testing

@testable import AirlockCore

/// The word-at-a-time scan that decides whether a string is copied as it is or escaped byte by
/// byte agrees with the plain per-byte rule for every byte value at every position of a word and
/// of the tail, and the written JSON is the same either way.
@Suite("Canonical strings: the escape scan")
struct StringEscapeScanTests {
    static func plain(_ bytes: [UInt8]) -> Bool { bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } }

    @Test func everyByteAtEveryPositionIsJudgedAsThePlainRuleJudgesIt() {
        for length in [1, 7, 8, 9, 16, 19] {
            for position in 0..<length {
                for value in 0...255 {
                    // Around the probed byte: ASCII letters, and multi-byte UTF-8's high bytes.
                    var bytes = [UInt8](repeating: position % 2 == 0 ? 0x61 : 0xC3, count: length)
                    bytes[position] = UInt8(value)
                    let scanned = bytes.withUnsafeBufferPointer { JSONWriter.needsEscaping($0) }
                    #expect(scanned == Self.plain(bytes), "length \(length), byte \(value) at \(position)")
                }
            }
        }
    }

    @Test func stringsWithAndWithoutEscapesAreWrittenCanonically() {
        #expect(
            JSONValue.string("plain text, long enough for two words").canonicalString
                == #""plain text, long enough for two words""#)
        #expect(
            JSONValue.string("a long line with a \"quote\" and a \\ and a\ttab").canonicalString
                == #""a long line with a \"quote\" and a \\ and a\ttab""#)
        #expect(
            JSONValue.string("héllo wörld, ünïcode passes through").canonicalString
                == "\"héllo wörld, ünïcode passes through\"")
    }
}

/// Numbers written from the bytes of Swift's shortest description read back as the same double,
/// over random bit patterns of every magnitude (the RFC 8785 vectors are in CanonicalFormTests).
@Suite("Canonical numbers: round trip")
struct CanonicalNumberRoundTripTests {
    @Test func randomDoublesReadBackExactly() {
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        while checked < 20_000 {
            let d = Double(bitPattern: generator.next())
            guard d.isFinite else { continue }
            let text = JSONWriter.formatNumber(d)
            #expect(Double(text) == d, "\(d.bitPattern): \(text)")
            #expect(!text.contains("E") && !text.hasSuffix(".0"), "\(text)")
            checked += 1
        }
    }
}
