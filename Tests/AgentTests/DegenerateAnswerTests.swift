import Agent
import Testing

/// What counts as an answer: the small model's empty replies and its loops are not, a real
/// answer with a list of similar lines is.
@Suite("degenerate final answers")
struct DegenerateAnswerTests {
    @Test func emptyAndBlankAnswersAreEmpty() {
        #expect(DegenerateAnswer.reason("") == DegenerateAnswer.empty)
        #expect(DegenerateAnswer.reason(" \n\t ") == DegenerateAnswer.empty)
        #expect(DegenerateAnswer.reason("…") == DegenerateAnswer.empty)
    }

    @Test func aPhraseRepeatedUntilTheLimitIsRepetition() {
        let looping =
            "The tool exited 2. The error is: " + String(repeating: "The tool exited 2. The error is: ", count: 30)
        #expect(DegenerateAnswer.reason(looping) == DegenerateAnswer.repetition)
        let sentence =
            "I found the errors. "
            + String(repeating: "The logs.search tool returned the matches for the pattern. ", count: 12)
        #expect(DegenerateAnswer.reason(sentence) == DegenerateAnswer.repetition)
        // Cut mid-phrase at the token limit, as a real reply is.
        #expect(
            DegenerateAnswer.reason(String(repeating: "error error ", count: 50) + "err") == DegenerateAnswer.repetition
        )
    }

    @Test func realAnswersAreNot() {
        #expect(DegenerateAnswer.reason("Done.") == nil)
        #expect(DegenerateAnswer.reason("ok") == nil)
        let list = (1...12).map { "- app.log line \($0): ERROR payments timeout request=\($0 * 7)" }.joined(
            separator: "\n")
        #expect(DegenerateAnswer.reason(list) == nil)
        let prose =
            "Three services logged errors. payments timed out twice contacting the ledger, which needs action first; api raised a KeyError; auth locked j.ortiz."
        #expect(DegenerateAnswer.reason(prose) == nil)
        // A short repeat inside a longer answer does not cover most of it.
        #expect(DegenerateAnswer.reason(prose + " Check it. Check it. Check it.") == nil)
        // Three alike lines are a list, not a loop.
        let three = "All good.\n" + String(repeating: "#99 +0.001ms tool.executed ran rm -rf / exit 0\n", count: 3)
        #expect(DegenerateAnswer.reason(three) == nil)
    }
}
