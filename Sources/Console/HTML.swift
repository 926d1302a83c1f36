import AirlockCore

/// HTML text built by escaping every value that came from a run, a tool, a model or a request:
/// the one place markup meets recorded text.
public enum HTML {
    /// `text` safe inside an element or a quoted attribute: `& < > " '` as entities, and control
    /// characters (other than tab and line breaks) and bidi overrides as visible `\u{…}` escapes,
    /// so that recorded text can neither open markup nor disguise itself.
    public static func escape(_ text: String) -> String { escape(text, quotes: true) }

    /// `text` safe inside an element (not an attribute): as ``escape(_:)``, but quotes kept as
    /// they are, which a long JSON body is full of.
    public static func text(_ text: String) -> String { escape(text, quotes: false) }

    static func escape(_ text: String, quotes: Bool) -> String {
        var out = HTMLWriter(capacity: text.utf8.count + 16)
        out.escape(text, quotes: quotes)
        return out.string
    }

    /// `value` for a URL query parameter or path segment: unreserved characters kept, every other
    /// byte percent-encoded.
    public static func urlComponent(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// A time in ns since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    public static func time(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
