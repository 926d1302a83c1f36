import AirlockCore

extension TraceDiff {
    /// What a person reads: the verdict, the summary (each fact same or differing, with both
    /// values), then each differing event with every differing field, A's value above B's.
    /// A long value is shown where the two part (``DifferenceText``).
    /// - Parameter full: print every value whole, however long (default false).
    /// - Returns: the lines, untrusted text still to be escaped for the terminal.
    public func lines(full: Bool = false) -> [String] {
        let names = summary.map(\.name).joined(separator: ", ")
        if identical {
            return [
                "\(runA) and \(runB): no difference (\(names); \(comparedEvents) events and \(callsA) call(s) compared)"
            ]
        }
        let differing = summary.filter { !$0.same }.map(\.name)
        var parts: [String] = []
        if !differing.isEmpty { parts.append(differing.joined(separator: ", ")) }
        if !events.isEmpty { parts.append("\(events.count) of \(comparedEvents) events") }
        func calls(_ count: Int) -> String { count == 1 ? "1 call" : "\(count) calls" }
        var out = [
            "\(runA) (A, \(calls(callsA))) vs \(runB) (B, \(calls(callsB))): \(parts.joined(separator: " and ")) differ"
        ]
        out.append("summary:")
        for fact in summary {
            guard !fact.same else {
                out.append("  \(fact.name): same \(DifferenceText.alone(fact.a, full: full))")
                continue
            }
            out.append("  \(fact.name): differs")
            if case .object = fact.a, case .object = fact.b {
                for change in JSONDifference.all(fact.a, fact.b) {
                    out += Self.lines(change, indent: "    ", full: full)
                }
            } else {
                out += Self.lines(JSONDifference.Change(pointer: "", a: fact.a, b: fact.b), indent: "    ", full: full)
            }
        }
        guard !events.isEmpty else { return out }
        out.append("events:")
        for event in events {
            var head = "  "
            if let onlyIn = event.onlyIn { head += "only in \(onlyIn.rawValue.uppercased()): " }
            head += event.type
            switch (event.stepA, event.stepB) {
            case (let x?, let y?) where x == y: head += " step \(x)"
            case (let x?, let y?): head += " step \(x) in A, \(y) in B"
            case (let x?, nil), (nil, let x?): head += " step \(x)"
            case (nil, nil): break
            }
            if let call = event.call { head += " " + Self.oneLine(call, full: full) }
            out.append(head)
            for change in event.changes { out += Self.lines(change, indent: "    ", full: full) }
        }
        return out
    }

    /// A change as `POINTER`, then `A: …` and `B: …` (a side absent in an event only one run has
    /// is left out).
    static func lines(_ change: JSONDifference.Change, indent: String, full: Bool) -> [String] {
        let (a, b) = DifferenceText.pair(change.a, change.b, full: full)
        var out: [String] = []
        var inner = indent
        if !change.pointer.isEmpty {
            out.append(indent + change.pointer)
            inner += "  "
        }
        let whole = change.pointer.isEmpty
        if change.a != nil || !whole { out.append(inner + "A: " + a) }
        if change.b != nil || !whole { out.append(inner + "B: " + b) }
        return out
    }

    /// `text` on one line (line breaks and other controls escaped), cut to
    /// ``DifferenceText/defaultWholeLimit`` characters unless `full`.
    static func oneLine(_ text: String, full: Bool) -> String {
        let line = TerminalText.escape(text)
        guard !full, line.count > DifferenceText.defaultWholeLimit else { return line }
        return String(line.prefix(DifferenceText.defaultWholeLimit)) + "…"
    }
}
