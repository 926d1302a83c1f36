import Testing

@testable import AirlockCore

@Suite struct JSONParserTests {
    @Test func parsesNestedDocument() throws {
        let v = try JSONParser().parse(#"{"a": [1, 2.5, "x", true, null], "b": {"c": -3}}"#)
        #expect(v.value(at: "/a/0") == .integer(1))
        #expect(v.value(at: "/a/1") == .number(2.5))
        #expect(v.value(at: "/b/c") == .integer(-3))
        #expect(v.value(at: "/a/9") == nil)
    }

    @Test func rejectsDuplicateKeys() {
        #expect(throws: JSONParseError.self) { try JSONParser().parse(#"{"path": "a", "path": "/etc"}"#) }
        do {
            _ = try JSONParser().parse("{\"a\": 1,\n \"a\": 2}")
        } catch {
            #expect(error.line == 2)
            #expect(error.reason.contains("duplicate key"))
        }
    }

    @Test func rejectsMalformedInput() {
        for bad in ["", "{", "[1,]", "01", "1.", "\"\\x\"", "tru", "{\"a\" 1}", "1 2", "\"\u{01}\"", "\"\\ud800\""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser().parse(bad) }
        }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError.self) { try JSONParser(maxDepth: 128).parse(deep) }
    }

    @Test func canonicalFormIsSortedAndCompact() throws {
        let v = try JSONParser().parse(#"{ "b": 1, "a": [true, "x\n\"y\""], "c": 1.5e2, "d": 0.1 }"#)
        #expect(v.canonicalString == #"{"a":[true,"x\n\"y\""],"b":1,"c":150,"d":0.1}"#)
        let reparsed = try JSONParser().parse(v.canonicalString)
        #expect(reparsed.canonicalBytes == v.canonicalBytes)
    }

    @Test func canonicalKeysSortByTheirUTF8BytesAndStringsEscapeOnlyWhatTheyMust() {
        let v: JSONValue = [
            "z": 1, "é": 2, "Z": 3, "a~": 4, "plain": "no escapes here / at all",
            "quoted": "say \"hi\" \\ then\ttab\u{01}",
        ]
        #expect(
            v.canonicalString
                == #"{"Z":3,"a~":4,"plain":"no escapes here / at all","quoted":"say \"hi\" \\ then\ttab\u0001","z":1,"é":2}"#
        )
    }

    @Test func pointerTokensEscapeTildeAndSlashOnly() {
        #expect(JSONPointer.escape("plain") == "plain")
        #expect(JSONPointer.escape("a/b~c") == "a~1b~0c")
        #expect(JSONPointer.escape("~1") == "~01")
        #expect(JSONPointer.unescape(JSONPointer.escape("x/~/y~1")) == "x/~/y~1")
        #expect(JSONPointer.appending("/record", "a/b") == "/record/a~1b")
    }

    @Test func unicodeEscapesDecode() throws {
        let v = try JSONParser().parse(#""\u00e9\ud83d\ude00""#)
        #expect(v == .string("é😀"))
    }
}

@Suite struct DigestTests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let h = SHA256Hasher()
        h.update(Array("a".utf8))
        h.update(Array("bc".utf8))
        #expect(Hex.encode(h.finalize()) == SHA256.hex(Array("abc".utf8)))
    }

    @Test func hexRoundTrip() {
        #expect(Hex.decode("00ff10") == [0, 255, 16])
        #expect(Hex.decode("0") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite struct YAMLDocumentTests {
    @Test func convertsScalarsAndRecordsLines() throws {
        let doc = try YAMLDocument(
            text: """
                name: logs.search
                version: 3
                ratio: 0.5
                enabled: true
                nothing: null
                paths:
                  - /var/log
                  - "42"
                """)
        #expect(doc.value["name"] == .string("logs.search"))
        #expect(doc.value["version"] == .integer(3))
        #expect(doc.value["ratio"] == .number(0.5))
        #expect(doc.value["enabled"] == .bool(true))
        #expect(doc.value["nothing"] == .null)
        #expect(doc.value.value(at: "/paths/1") == .string("42"))
        #expect(doc.line(for: "/paths/1") == 8)
        #expect(doc.line(for: "/version") == 2)
    }

    @Test func baseSixtyNumbersAreTextAndALongOneDoesNotTrap() throws {
        // Found by `tools/fuzz workflow`: Yams's base-60 conversion overflowed and trapped.
        let doc = try YAMLDocument(text: "time: 1:30\nhuge: 1:2:3:4:5:6:7:8:9:10:11:12:13\nf: 1:30.5\nn: 0x1F\n")
        #expect(doc.value["time"] == .string("1:30"))
        #expect(doc.value["huge"] == .string("1:2:3:4:5:6:7:8:9:10:11:12:13"))
        #expect(doc.value["f"] == .string("1:30.5"))
        #expect(doc.value["n"] == .integer(31))
    }

    @Test func rejectsDuplicateKeysWithLine() {
        do {
            _ = try YAMLDocument(text: "a: 1\nb: 2\na: 3\n")
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.reason.contains("a"))
        }
    }
}
