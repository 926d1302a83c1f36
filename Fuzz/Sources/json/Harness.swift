import AirlockCore
import CFuzzDriver

/// The strict JSON parser on any bytes: it returns a value or throws, never traps; the canonical
/// bytes of a value it returns (what is hashed and signed) parse, and are their own canonical form.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser().parse(bytes) else { return 0 }
    let canonical = value.canonicalBytes
    let again = try? JSONParser().parse(canonical)
    precondition(again?.canonicalBytes == canonical, "canonical bytes are not their own canonical form")
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzJSON(_:_:)``.
@_cdecl("fuzz_json_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzJSON($0, size) } ?? 0 }
}
