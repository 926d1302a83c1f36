/// Whether a final answer is one in name only: empty, or one sentence or phrase repeated over most
/// of it (what a small model does until the token limit). Such a run does not end `succeeded`:
/// it ends `degenerate_answer`, and `run.finished` says why (`degenerate`).
public enum DegenerateAnswer {
    /// An answer with no text but blanks.
    public static let empty = "empty"
    /// An answer whose tail repeats one phrase over most of it.
    public static let repetition = "repetition"

    /// The longest phrase, in words, whose repetition is looked for.
    public static let maxPeriodWords = 48
    /// How many times the phrase must occur in a row: more than an answer repeats a line for
    /// emphasis or lists three alike, fewer than a loop to the token limit.
    public static let minRepeats = 4
    /// The share of the answer's words the repeated run must cover.
    public static let minCoverage = 0.5

    /// Why `answer` is degenerate, or `nil` when it is an answer.
    ///
    /// Looks for the answer's words ending in a periodic run: some phrase of at most
    /// ``maxPeriodWords`` words repeated at least ``minRepeats`` times, covering at least
    /// ``minCoverage`` of the words. A list with a repeated shape but different values (file
    /// names, line numbers) is not periodic, since the words differ.
    public static func reason(_ answer: String) -> String? {
        let words = answer.lowercased().split(whereSeparator: { $0.isWhitespace }).map {
            $0.trimmingCharacters(in: .punctuationCharacters)
        }
        guard !words.allSatisfy(\.isEmpty) else { return empty }
        // A reply cut at the token limit may end mid-word: its last word is not held against it.
        return periodic(words) || periodic(Array(words.dropLast())) ? repetition : nil
    }

    /// Whether `words` end in a run of one phrase repeated ``minRepeats`` times or more, covering
    /// ``minCoverage`` of them.
    static func periodic(_ words: [String]) -> Bool {
        guard words.count >= minRepeats else { return false }
        for period in 1...max(1, min(maxPeriodWords, words.count / minRepeats)) {
            // The periodic tail: the last index from which every word equals the one a period later.
            var start = words.count - period
            while start > 0, words[start - 1] == words[start - 1 + period] { start -= 1 }
            let covered = words.count - start
            if covered >= period * minRepeats, Double(covered) >= minCoverage * Double(words.count) {
                return true
            }
        }
        return false
    }
}
