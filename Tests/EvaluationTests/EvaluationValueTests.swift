import Evaluation
import Foundation
import Runs
import Testing

/// The arithmetic and matching the report rests on.
@Suite("airlock eval: intervals, facts and configurations")
struct EvaluationValueTests {
    @Test func wilsonIntervalsMatchTheirPublishedValues() {
        let none = WilsonInterval(successes: 0, trials: 3)
        #expect(none.lower == 0)
        #expect(abs(none.upper - 0.5615) < 0.0005)
        let half = WilsonInterval(successes: 5, trials: 10)
        #expect(abs(half.lower - 0.2366) < 0.0005)
        #expect(abs(half.upper - 0.7634) < 0.0005)
        let all = WilsonInterval(successes: 12, trials: 12)
        #expect(abs(all.lower - 0.7575) < 0.0005)
        #expect(all.upper == 1)
        #expect(WilsonInterval(successes: 0, trials: 0).upper == 1)
        #expect(half.text == "50 % (24–76 %)")
    }

    func attempt(answer: String, written: [String] = []) throws -> AttemptRecord {
        let json: [String: Any] = [
            "run_id": "r", "status": "succeeded", "message": "m", "answer": answer, "steps": 1, "tool_calls": 0,
            "executed": 0, "refused": 0, "input_tokens": 0, "output_tokens": 0, "seconds": 0.0, "proposed": [],
            "ran": [], "written": written,
        ]
        return try JSONDecoder().decode(AttemptRecord.self, from: JSONSerialization.data(withJSONObject: json))
    }

    @Test func aNumberIsAFactOnlyAsAWholeNumber() throws {
        let checks = EvaluationChecks(answerContains: [["7"]])
        func passes(_ answer: String) throws -> Bool { checks.judge(try attempt(answer: answer)).allSatisfy(\.passed) }
        #expect(try passes("There are 7 items."))
        #expect(try passes("count: 7.0"))
        #expect(try passes("(7)"))
        #expect(try !passes("There are 17 items."))
        #expect(try !passes("7.5 items"))
        #expect(try !passes("items: 70"))
        let words = EvaluationChecks(answerContains: [["Gdansk", "Gdańsk"], ["slow   query"]])
        #expect(words.judge(try attempt(answer: "GDANSK had a Slow\nquery")).allSatisfy(\.passed))
    }

    @Test func configurationsAreModelAtMode() throws {
        #expect(try EvaluationConfiguration.parse("embedded@native").label == "embedded@native")
        #expect(try EvaluationConfiguration.parse("oracle").model == .oracle)
        let endpoint = try EvaluationConfiguration.parse("unix:/run/llama@x.sock@constrained")
        #expect(endpoint.model == .endpoint("unix:/run/llama@x.sock"))
        #expect(endpoint.toolCalling == "constrained")
        #expect(throws: RunsError.self) { try EvaluationConfiguration.parse("embedded", defaultMode: "magic") }
        #expect(throws: RunsError.self) { try EvaluationConfiguration.parse("@native") }
    }
}
