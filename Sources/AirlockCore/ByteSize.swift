/// Byte sizes as people write them, one grammar for the command line and for manifests:
/// digits, then optionally a unit `K`, `M`, `G` or `T` (powers of 1024), which may be followed by
/// `i` and `B` (`64M`, `64Mi`, `64MiB`, `64MB` are one size), or `B` alone; units in either case.
/// `4096`, `64K`, `512KiB`, `1G`, `1GiB`.
public enum ByteSize {
    /// The units, by their letter (upper case).
    private static let units: [UInt8: UInt64] = [
        UInt8(ascii: "K"): 1 << 10, UInt8(ascii: "M"): 1 << 20, UInt8(ascii: "G"): 1 << 30, UInt8(ascii: "T"): 1 << 40,
    ]

    /// The bytes `text` says, or `nil` when it is no size or too large for 64 bits.
    public static func parse(_ text: String) -> UInt64? {
        var rest = Array(text.utf8).map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }  // ASCII upper case
        if rest.last == UInt8(ascii: "B") { rest.removeLast() }
        var multiplier: UInt64 = 1
        if rest.last == UInt8(ascii: "I"), rest.count >= 2, units[rest[rest.count - 2]] != nil { rest.removeLast() }
        if let last = rest.last, let unit = units[last] {
            multiplier = unit
            rest.removeLast()
        }
        guard !rest.isEmpty, rest.count <= 20, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let value = UInt64(String(decoding: rest, as: UTF8.self))
        else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
