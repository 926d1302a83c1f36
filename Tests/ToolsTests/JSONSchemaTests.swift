import AirlockCore
import Testing

@testable import Tools

@Suite("JSON Schema subset")
struct JSONSchemaTests {
    func schema(_ text: String) throws -> JSONSchema {
        try JSONSchema.compile(JSONParser().parse(text)).get()
    }

    func errors(_ schemaText: String, _ instance: String) throws -> [String] {
        try schema(schemaText).validate(JSONParser().parse(instance)).map(\.description)
    }

    @Test func typesDistinguishIntegerFromNumber() throws {
        #expect(try errors(#"{"type": "integer"}"#, "3").isEmpty)
        #expect(try errors(#"{"type": "integer"}"#, "3.0").isEmpty)
        #expect(try errors(#"{"type": "integer"}"#, "3.5") == ["(root): must be an integer, not number"])
        #expect(try errors(#"{"type": "number"}"#, "3").isEmpty)
        #expect(try errors(#"{"type": ["string", "null"]}"#, "null").isEmpty)
        #expect(
            try errors(#"{"type": ["string", "null"]}"#, "true") == ["(root): must be a string or null, not boolean"])
    }

    @Test func everyErrorCarriesTheInstancePointer() throws {
        let s = #"{"type":"object","properties":{"paths":{"type":"array","items":{"type":"string"}}}}"#
        #expect(try errors(s, #"{"paths": ["a", "b", 3]}"#) == ["/paths/2: must be a string, not integer"])
        let nested = #"{"properties":{"a/b":{"properties":{"c~d":{"const":1}}}}}"#
        #expect(try errors(nested, #"{"a/b": {"c~d": 2}}"#) == ["/a~1b/c~0d: must be 1"])
    }

    @Test func objectKeywords() throws {
        let s =
            #"{"type":"object","required":["a"],"properties":{"a":{"type":"string"}},"additionalProperties":{"type":"integer"}}"#
        #expect(try errors(s, #"{"a": "x", "b": 2}"#).isEmpty)
        #expect(
            try errors(s, #"{"b": "no"}"#) == [
                "(root): missing required property \"a\"", "/b: must be an integer, not string",
            ])
        let closed = #"{"properties":{"a":true},"additionalProperties":false}"#
        #expect(try errors(closed, #"{"a": 1, "z": 2}"#) == ["/z: is not an allowed property"])
    }

    @Test func stringAndNumberBounds() throws {
        #expect(
            try errors(#"{"minLength": 2, "maxLength": 3}"#, #""é""#) == ["(root): must be at least 2 characters long"])
        #expect(try errors(#"{"maxLength": 2}"#, #""😀😀""#).isEmpty)
        #expect(try errors(#"{"pattern": "^[a-z]+$"}"#, #""abc""#).isEmpty)
        #expect(try errors(#"{"pattern": "b"}"#, #""abc""#).isEmpty)
        #expect(try errors(#"{"pattern": "^b"}"#, #""abc""#) == ["(root): must match the pattern ^b"])
        #expect(try errors(#"{"minimum": 1, "maximum": 3}"#, "0") == ["(root): must be at least 1"])
        #expect(try errors(#"{"exclusiveMinimum": 1, "exclusiveMaximum": 3}"#, "3") == ["(root): must be less than 3"])
        #expect(try errors(#"{"exclusiveMinimum": 1}"#, "1") == ["(root): must be greater than 1"])
        #expect(try errors(#"{"minimum": 1}"#, #""0""#).isEmpty)
    }

    @Test func patternsMeanWhatECMA262Says() throws {
        // `$` is the end of the input, not "before a final newline" as in ICU.
        #expect(try errors(#"{"pattern": "^[a-z]+$"}"#, #""abc\n""#) == [#"(root): must match the pattern ^[a-z]+$"#])
        #expect(try errors(#"{"pattern": "^[$a-z]+$"}"#, #""a$b""#).isEmpty)
        #expect(try errors(#"{"pattern": "^a\\$$"}"#, #""a$""#).isEmpty)
        // `\d` and `\w` are ASCII: Arabic-Indic digits are not digits to a JSON Schema.
        #expect(try errors(#"{"pattern": "^\\d+$"}"#, #""\u0663\u0660\u0660""#).count == 1)
        #expect(try errors(#"{"pattern": "^[\\d.]+$"}"#, #""3.14""#).isEmpty)
        #expect(try errors(#"{"pattern": "^\\w+$"}"#, #""caf\u00e9""#).count == 1)
        #expect(try errors(#"{"pattern": "^[]a]+$"}"#, #""]a""#).isEmpty)
    }

    @Test func arraysEnumAndConst() throws {
        #expect(try errors(#"{"minItems": 1, "maxItems": 2}"#, "[]") == ["(root): must have at least 1 items"])
        #expect(try errors(#"{"maxItems": 2}"#, "[1,2,3]") == ["(root): must have at most 2 items"])
        #expect(try errors(#"{"enum": ["a", 1]}"#, "1.0").isEmpty)
        #expect(try errors(#"{"enum": [1]}"#, "true") == ["(root): must be one of 1"])
        #expect(try errors(#"{"const": {"a": [1, 2]}}"#, #"{"a": [1, 2.0]}"#).isEmpty)
        #expect(try errors(#"{"const": false}"#, "0") == ["(root): must be false"])
    }

    @Test func combinators() throws {
        let any = #"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#
        #expect(try errors(any, "1").isEmpty)
        #expect(try errors(any, "null") == ["(root): must match at least one schema in anyOf"])
        let one = #"{"oneOf": [{"type": "integer"}, {"minimum": 0}]}"#
        #expect(try errors(one, "-1").isEmpty)
        #expect(try errors(one, "1") == ["(root): must match exactly one schema in oneOf (matched 2)"])
        let all = #"{"allOf": [{"type": "string"}, {"maxLength": 1}]}"#
        #expect(try errors(all, #""ab""#) == ["(root): must be at most 1 characters long"])
    }

    @Test func localReferences() throws {
        let s =
            ##"{"$defs": {"name": {"type": "string", "minLength": 1}}, "properties": {"n": {"$ref": "#/$defs/name"}}}"##
        #expect(try errors(s, #"{"n": "x"}"#).isEmpty)
        #expect(try errors(s, #"{"n": ""}"#) == ["/n: must be at least 1 characters long"])
        let tree =
            ##"{"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"}"##
        #expect(
            try errors(tree, #"{"kids": [{"kids": []}, {"kids": [1]}]}"#) == [
                "/kids/1/kids/0: must be an object, not integer"
            ])
    }

    @Test func aReferenceCycleIsBoundedNotEndless() throws {
        let loop = ##"{"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##
        let problems = try errors(loop, "1")
        #expect(problems.first?.contains("deeper than 64") == true)
    }

    @Test func anythingOutsideTheSubsetIsRefusedWithItsPointer() throws {
        let text =
            ##"{"type": "object", "properties": {"a": {"type": "string", "contentEncoding": "base64"}}, "patternProperties": {}, "items": [{}], "$ref": "other.json#/x", "minLength": -1, "pattern": "(", "type2": 1}"##
        guard case .failure(let failure) = JSONSchema.compile(try JSONParser().parse(text)) else {
            Issue.record("compiled a schema outside the subset")
            return
        }
        let pointers = failure.problems.map(\.pointer)
        #expect(pointers.contains("/properties/a/contentEncoding"))
        #expect(pointers.contains("/patternProperties"))
        #expect(pointers.contains("/items"))
        #expect(pointers.contains("/$ref"))
        #expect(pointers.contains("/minLength"))
        #expect(pointers.contains("/pattern"))
        #expect(pointers.contains("/type2"))
        #expect(
            failure.problems.first { $0.pointer == "/patternProperties" }?.message.contains(
                "outside Airlock's schema subset") == true)
    }

    @Test func undefinedReferencesAndBadTypesAreRefused() throws {
        let text = ##"{"$ref": "#/$defs/missing", "type": "text"}"##
        guard case .failure(let failure) = JSONSchema.compile(try JSONParser().parse(text)) else {
            Issue.record("compiled an undefined reference")
            return
        }
        #expect(failure.problems.map(\.pointer).sorted() == ["/$ref", "/type"])
    }

    @Test func annotationsAreAccepted() throws {
        let s = try schema(
            #"{"title": "t", "description": "d", "format": "date", "default": 1, "examples": [1], "$comment": "c"}"#)
        #expect(s.validate("not a date").isEmpty)
    }
}
