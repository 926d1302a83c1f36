/// One check's verdict on one attempt.
public struct CheckVerdict: Sendable, Hashable, Codable {
    /// The check (`status`, `answer_contains`, …).
    public var check: String
    /// Whether it passed.
    public var passed: Bool
    /// What was expected and what was found, for a person.
    public var detail: String
}

extension EvaluationChecks {
    /// Every check's verdict on `attempt`; the attempt succeeds when all pass.
    public func judge(_ attempt: AttemptRecord) -> [CheckVerdict] {
        var verdicts: [CheckVerdict] = []
        func verdict(_ check: String, _ passed: Bool, _ detail: String) {
            verdicts.append(CheckVerdict(check: check, passed: passed, detail: detail))
        }
        var status = "status \(attempt.status)"
        if let degenerate = attempt.degenerate { status += " (degenerate answer: \(degenerate))" }
        verdict("status", attempt.status == self.status, "expected \(self.status), got \(status)")
        let answer = Self.folded(attempt.answer ?? "")
        if !answerContains.isEmpty {
            let missing = answerContains.filter { !$0.contains { Self.holds(answer, $0) } }
            verdict(
                "answer_contains", missing.isEmpty,
                missing.isEmpty
                    ? "the answer holds every fact"
                    : "the answer lacks \(missing.map(Self.alternatives).joined(separator: ", "))")
        }
        if !answerExcludes.isEmpty {
            let found = answerExcludes.filter { Self.holds(answer, $0) }
            verdict(
                "answer_excludes", found.isEmpty,
                found.isEmpty
                    ? "the answer holds none of the excluded text"
                    : "the answer holds \(found.map(Self.quoted).joined(separator: ", "))")
        }
        if !notesContain.isEmpty {
            let notes = Self.folded(attempt.written.joined(separator: "\n"))
            let missing = notesContain.filter { !$0.contains { Self.holds(notes, $0) } }
            verdict(
                "notes_contain", missing.isEmpty,
                attempt.written.isEmpty
                    ? "nothing was written to the workspace"
                    : missing.isEmpty
                        ? "the workspace notes hold every fact"
                        : "the notes lack \(missing.map(Self.alternatives).joined(separator: ", "))")
        }
        for tool in called {
            verdict(
                "called", attempt.ran.contains(tool), attempt.ran.contains(tool) ? "\(tool) ran" : "\(tool) never ran")
        }
        for tool in notCalled {
            let count = attempt.proposed.filter { $0 == tool }.count
            verdict(
                "not_called", count == 0,
                count == 0 ? "\(tool) was not proposed" : "\(tool) was proposed \(count) time(s)")
        }
        if noRefusals {
            verdict("no_refusals", attempt.refused == 0, "\(attempt.refused) call(s) refused")
        }
        if let maxSteps {
            verdict(
                "max_steps", attempt.steps <= maxSteps, "\(attempt.steps) model request(s), at most \(maxSteps) allowed"
            )
        }
        return verdicts
    }

    /// Whether folded `text` holds `fact`: as a substring, or, for a fact that is a number, as
    /// a whole number (no digit before it; no digit, nor a separator and a non-zero digit, after
    /// it), so that `7` is not found in `17` or `7.5` but is in `7 items` and `7.0`.
    static func holds(_ text: String, _ fact: String) -> Bool {
        let fact = folded(fact)
        guard !fact.isEmpty, fact.allSatisfy(\.isNumber) else { return text.contains(fact) }
        var search = text[...]
        while let range = search.range(of: fact) {
            let before = range.lowerBound > text.startIndex ? text[text.index(before: range.lowerBound)] : " "
            let after = text[range.upperBound...].prefix(2)
            let followedByDigit = after.first?.isNumber == true
            let followedByFraction =
                after.count == 2 && [".", ","].contains(after.first) && after.last?.isNumber == true
                && after.last != "0"
            if !before.isNumber, !followedByDigit, !followedByFraction { return true }
            search = text[range.upperBound...]
        }
        return false
    }

    /// Text as compared: lowercased, blanks collapsed to one space.
    static func folded(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func quoted(_ text: String) -> String { "\"\(text)\"" }

    static func alternatives(_ options: [String]) -> String { options.map(quoted).joined(separator: " or ") }
}
