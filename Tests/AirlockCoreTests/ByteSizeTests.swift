import AirlockCore
import Testing

/// One byte-size grammar for the command line (`--memory 64M`) and manifests (`memory: 64MiB`).
@Suite("Byte sizes: one grammar for flags and manifests")
struct ByteSizeTests {
    @Test func everySpellingOfAUnitIsTheSameSize() {
        for text in ["64M", "64Mi", "64MiB", "64MB", "64m", "64mib", "64Mib"] {
            #expect(ByteSize.parse(text) == 64 << 20, "\(text)")
        }
        #expect(ByteSize.parse("4096") == 4096)
        #expect(ByteSize.parse("4096B") == 4096)
        #expect(ByteSize.parse("0") == 0)
        #expect(ByteSize.parse("512KiB") == 512 << 10)
        #expect(ByteSize.parse("1G") == 1 << 30)
        #expect(ByteSize.parse("2T") == 2 << 40)
    }

    @Test func whatIsNoSizeIsRefused() {
        for text in [
            "", "K", "KiB", "B", "iB", "64iB", "12 apples", "1.5G", "-1", "+1", " 64M", "64M ", "64X", "64KK", "٣K",
        ] {
            #expect(ByteSize.parse(text) == nil, "\(text)")
        }
        #expect(ByteSize.parse("18446744073709551615") == UInt64.max)
        #expect(ByteSize.parse("18446744073709551616") == nil)
        #expect(ByteSize.parse("17179869184G") == nil)  // 2^34 GiB overflows 64 bits
    }
}
