import AirlockCore
import Foundation
import Testing

/// The canonical form against RFC 8785 (JCS) itself: its number table (Appendix B), its sorting
/// example (section 3.2.3) and its sample document (section 3.2.4).
@Suite("Canonical JSON is RFC 8785")
struct CanonicalFormTests {
    /// RFC 8785 Appendix B: IEEE 754 bit patterns and the text ECMAScript gives them.
    static let appendixB: [(UInt64, String)] = [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"),
        (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"),
        (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
        (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
        (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"),
        (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"),
        (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"),
        (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ]

    @Test("numbers: every row of Appendix B")
    func appendixBNumbers() {
        for (bits, expected) in Self.appendixB {
            let text = String(decoding: JSONValue.number(Double(bitPattern: bits)).canonicalBytes, as: UTF8.self)
            #expect(text == expected, "0x\(String(bits, radix: 16))")
        }
    }

    @Test("numbers: the sample document of section 3.2.4, parsed and re-encoded")
    func sampleDocument() throws {
        let input = #"{"numbers":[1E30,4.50,6,2e-3,0.000000000000000000000000001],"other":[null,true,false]}"#
        let value = try JSONParser().parse(input)
        #expect(value.canonicalString == #"{"numbers":[1e+30,4.5,6,0.002,1e-27],"other":[null,true,false]}"#)
    }

    @Test("keys: the sorting example of section 3.2.3, in UTF-16 code-unit order")
    func keyOrder() {
        let keys = ["\u{20AC}", "\r", "\u{FB33}", "1", "\u{1F600}", "\u{80}", "\u{F6}"]
        let object = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.integer(1)) }))
        let order = ["\r", "1", "\u{80}", "\u{F6}", "\u{20AC}", "\u{1F600}", "\u{FB33}"]
        let expected = "{" + order.map { JSONValue.string($0).canonicalString + ":1" }.joined(separator: ",") + "}"
        #expect(object.canonicalString == expected)
        // Form 1 kept UTF-8 byte order, where U+FB33 (EF AC B3) comes before U+1F600 (F0 9F 98 80).
        let v1 = String(decoding: object.canonicalBytes(.v1), as: UTF8.self)
        #expect(v1.range(of: "\u{FB33}")!.lowerBound < v1.range(of: "\u{1F600}")!.lowerBound)
    }

    @Test("form 1 re-creates what earlier Airlock hashed: Swift's shortest text, whole values as integers")
    func formOne() {
        let value: JSONValue = [
            "small": .number(1e-7), "big": .number(1e16), "whole": .number(3), "half": .number(0.5),
        ]
        #expect(
            String(decoding: value.canonicalBytes(.v1), as: UTF8.self)
                == #"{"big":1e+16,"half":0.5,"small":1e-07,"whole":3}"#)
        #expect(value.canonicalString == #"{"big":10000000000000000,"half":0.5,"small":1e-7,"whole":3}"#)
    }

    @Test("integers stay exact beyond 2^53 (a documented difference from JCS)")
    func exactIntegers() {
        #expect(JSONValue.integer(Int64.max).canonicalString == "9223372036854775807")
        #expect(JSONValue.integer(-9_007_199_254_740_993).canonicalString == "-9007199254740993")
    }
}
