import AirlockCore
import Testing

@Suite("DocumentProblems: one recorder and one wording for every document")
struct DocumentProblemsTests {
    @Test("problems name the field and its line (or its nearest ancestor's), in one wording")
    func wording() throws {
        let document = try YAMLDocument(text: "name: x\nlimits:\n  colour: red\n  memory: [1]\n")
        var problems = DocumentProblems(document)
        let limits = try #require(document.value["limits"]?.objectValue)
        problems.unknownFields(of: limits, at: "/limits", allowed: ["memory", "cpu"])
        problems.wrongType(limits["memory"]!, at: "/limits/memory", expected: "a size")
        problems.missingFields(of: limits, at: "/limits", required: ["cpu"])
        problems.add("/limits/memory/0/deeper", "an ancestor's line")
        #expect(
            problems.lines == [
                "/limits/colour (line 3): unknown field \"colour\" (allowed: memory, cpu)",
                "/limits/memory (line 4): must be a size, not array",
                "/limits (line 3): missing required field \"cpu\"",
                "/limits/memory/0/deeper (line 4): an ancestor's line",
            ])
        #expect(!problems.isEmpty && DocumentProblems(nil).isEmpty)
    }
}
