import Foundation

/// One line of the table: a figure, the anchor measured beside it, and what is compared.
struct Row: Codable, Sendable {
    /// How the figure is held against its anchor.
    enum Comparison: String, Codable, Sendable {
        /// figure ÷ anchor.
        case ratio
        /// figure − anchor, in the figure's unit (time added to the anchor's).
        case difference
        /// (figure − anchor) ÷ anchor, in percent.
        case overhead
        /// No anchor: a figure shown for information.
        case none
    }

    /// The key in thresholds.json (`trace.verify`).
    var id: String
    /// What is measured, as the table shows it.
    var what: String
    /// The figure.
    var figure: Double
    /// The figure's unit (`µs`, `events/s`).
    var unit: String
    /// The anchor's value, in the same unit (`nil` for ``Comparison/none``).
    var anchor: Double?
    /// What the anchor is.
    var anchorName: String
    /// How figure and anchor are compared.
    var comparison: Comparison
    /// A short remark for the table's notes (counts, what was left out).
    var note: String = ""

    /// The compared value: a ratio, a difference or an overhead in percent.
    var value: Double? {
        guard let anchor else { return nil }
        switch comparison {
        case .ratio: return anchor == 0 ? nil : figure / anchor
        case .difference: return figure - anchor
        case .overhead: return anchor == 0 ? nil : (figure - anchor) / anchor * 100
        case .none: return nil
        }
    }
}

/// A committed bound on a row's compared value (Benchmarks/thresholds.json).
struct Threshold: Codable, Sendable {
    /// `ratio`, `difference` or `overhead`: what the bound applies to.
    var compare: Row.Comparison
    /// The value must be at most this.
    var at_most: Double?
    /// The value must be at least this.
    var at_least: Double?

    /// Whether `value` is within the bound.
    func holds(_ value: Double) -> Bool {
        if let at_most, value > at_most { return false }
        if let at_least, value < at_least { return false }
        return true
    }

    /// `≤ 0.5×`, `≥ 0.8×`, `≤ +1 ms`, `≤ 2 %`.
    func text(unit: String) -> String {
        let bound = at_most.map { ("≤", $0) } ?? at_least.map { ("≥", $0) }
        guard let (sign, number) = bound else { return "—" }
        switch compare {
        case .ratio: return "\(sign) \(Format.number(number))×"
        case .difference: return "\(sign) +\(Format.number(number)) \(unit)"
        case .overhead: return "\(sign) \(Format.number(number)) %"
        case .none: return "—"
        }
    }

    /// Reads thresholds.json: `{"row.id": {"compare": "ratio", "at_most": 0.5}, …}`.
    static func load(_ path: String) throws -> [String: Threshold] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode([String: Threshold].self, from: data)
    }
}

/// Number formatting for the table: three significant digits, no exponent.
enum Format {
    static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        return String(format: "%.\(decimals)f", value)
    }

    /// A compared value as the table shows it.
    static func value(_ value: Double, _ comparison: Row.Comparison, unit: String) -> String {
        switch comparison {
        case .ratio: return number(value) + "×"
        case .difference: return (value >= 0 ? "+" : "") + number(value) + " " + unit
        case .overhead: return number(value) + " %"
        case .none: return "—"
        }
    }
}
