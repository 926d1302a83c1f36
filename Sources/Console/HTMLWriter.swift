/// Markup built in one growing byte buffer: trusted markup appended as it is, recorded text
/// escaped in one pass over its UTF-8 bytes (runs of ordinary bytes copied whole). The one
/// escaping ``HTML`` and every rendering of a run go through.
public struct HTMLWriter: Sendable {
    /// The markup so far, UTF-8.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The markup as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends trusted markup (never recorded text) as it is.
    public mutating func raw(_ markup: String) { bytes.append(contentsOf: markup.utf8) }

    /// Appends `text` escaped for an element's content (quotes kept).
    public mutating func text(_ text: String) { escape(text, quotes: false) }

    /// Appends `text` escaped for a quoted attribute (or anywhere).
    public mutating func attribute(_ text: String) { escape(text, quotes: true) }

    /// Appends `text` escaped: `& < >` (and with `quotes`, `" '`) as entities; control characters
    /// other than tab and line breaks (C0, DEL, C1) and the bidirectional formatting characters
    /// (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) as visible `\u{…}`.
    public mutating func escape(_ text: String, quotes: Bool) {
        var text = text
        text.withUTF8 { escape(utf8: $0, quotes: quotes) }
    }

    /// Appends UTF-8 `input` escaped as ``escape(_:quotes:)`` does.
    public mutating func escape(utf8 input: UnsafeBufferPointer<UInt8>, quotes: Bool) {
        let count = input.count
        var start = 0
        var index = 0
        while index < count {
            let byte = input[index]
            var length = 1
            var hidden: UInt32? = nil
            var entity: StaticString? = nil
            switch byte {
            case UInt8(ascii: "&"): entity = "&amp;"
            case UInt8(ascii: "<"): entity = "&lt;"
            case UInt8(ascii: ">"): entity = "&gt;"
            case UInt8(ascii: "\"") where quotes: entity = "&quot;"
            case UInt8(ascii: "'") where quotes: entity = "&#39;"
            case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
            case 0..<0x20, 0x7F: hidden = UInt32(byte)
            case 0xC2 where index + 1 < count && (0x80...0x9F).contains(input[index + 1]):
                // U+0080–U+009F, the C1 controls.
                hidden = UInt32(input[index + 1])
                length = 2
            case 0xE2 where index + 2 < count:
                let (second, third) = (input[index + 1], input[index + 2])
                if second == 0x80 && (third == 0x8E || third == 0x8F || (0xAA...0xAE).contains(third))
                    || second == 0x81 && (0xA6...0xA9).contains(third)
                {
                    // U+200E, U+200F, U+202A–U+202E, U+2066–U+2069.
                    hidden = 0x2000 + UInt32(second & 0x01) << 6 + UInt32(third & 0x3F)
                    length = 3
                }
            default: break
            }
            guard entity != nil || hidden != nil else {
                index += 1
                continue
            }
            if start < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<index])) }
            if let entity {
                entity.withUTF8Buffer { bytes.append(contentsOf: $0) }
            } else if let hidden {
                appendHidden(hidden)
            }
            index += length
            start = index
        }
        if start < count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<count])) }
    }

    /// `\u{1B}`: uppercase hex, no padding.
    private mutating func appendHidden(_ value: UInt32) {
        bytes.append(contentsOf: "\\u{".utf8)
        var digits: [UInt8] = []
        var rest = value
        repeat {
            let digit = UInt8(rest & 15)
            digits.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "A") + digit - 10)
            rest >>= 4
        } while rest > 0
        bytes.append(contentsOf: digits.reversed())
        bytes.append(UInt8(ascii: "}"))
    }
}
