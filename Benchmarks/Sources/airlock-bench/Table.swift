import Foundation

/// The rows of one or more runs, aggregated (medians, and the spread of the compared value over
/// the runs) and printed as text or Markdown.
struct Table {
    /// One id's rows, one per run.
    var rows: [[Row]]
    var thresholds: [String: Threshold]
    var repeats: Int
    /// Cores and load, for the line under the table.
    var machine: String

    struct Line {
        var what, figure, anchor, compared, threshold, result, note: String
    }

    var lines: [Line] {
        rows.compactMap { runs in
            guard let first = runs.first else { return nil }
            let figure = Stats.median(runs.map(\.figure))
            let anchors = runs.compactMap(\.anchor)
            let anchor = anchors.isEmpty ? nil : Stats.median(anchors)
            let values = runs.compactMap(\.value)
            let threshold = thresholds[first.id]
            var compared = "—"
            var result = threshold == nil ? "—" : "not run"
            if !values.isEmpty {
                let value = Stats.median(values)
                compared = Format.value(value, first.comparison, unit: first.unit)
                if values.count > 1, let low = values.min(), let high = values.max() {
                    compared += " (\(Format.number(low))–\(Format.number(high)))"
                }
                if let threshold { result = threshold.holds(value) ? "pass" : "FAIL" }
            }
            let notRun = first.id.hasSuffix(".not-run")
            return Line(
                what: first.what, figure: notRun ? "not run" : "\(Format.number(figure)) \(first.unit)",
                anchor: anchor.map { "\(Format.number($0)) \(first.unit) \(first.anchorName)" } ?? first.anchorName,
                compared: compared, threshold: threshold?.text(unit: first.unit) ?? "—", result: result,
                note: runs.last?.note ?? "")
        }
    }

    var failures: Int { lines.filter { $0.result == "FAIL" }.count }

    var footer: String {
        "\(repeats) run\(repeats == 1 ? "" : "s") (figures are medians; the compared value's range over the runs in brackets; notes are the last run's); \(machine)"
    }

    func text() -> String {
        let header = Line(
            what: "what", figure: "figure", anchor: "anchor", compared: "vs anchor", threshold: "threshold",
            result: "result", note: "")
        let all = [header] + lines
        func width(_ key: KeyPath<Line, String>) -> Int { all.map { $0[keyPath: key].count }.max() ?? 0 }
        let keys: [KeyPath<Line, String>] = [\.what, \.figure, \.anchor, \.compared, \.threshold, \.result]
        let widths = keys.map(width)
        var out = all.map { line in
            zip(keys, widths).map { line[keyPath: $0.0].padding(toLength: $0.1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        out.append("")
        out += lines.filter { !$0.note.isEmpty }.map { "- \($0.what): \($0.note)" }
        out.append(footer)
        return out.joined(separator: "\n")
    }

    func markdown() -> String {
        var out = [
            "| what | figure | anchor, same run | vs anchor | threshold | result |", "|---|---|---|---|---|---|",
        ]
        for line in lines {
            let cells = [line.what, line.figure, line.anchor, line.compared, line.threshold, line.result]
            out.append(
                "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        out.append("")
        out += lines.filter { !$0.note.isEmpty }.map { "- \($0.what): \($0.note)" }
        out.append("")
        out.append(footer)
        return out.joined(separator: "\n")
    }
}
