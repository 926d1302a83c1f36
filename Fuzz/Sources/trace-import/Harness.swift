import CFuzzDriver
import Trace

/// A JSONL trace export as `trace import` parses it, before any verification.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceImport(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? TraceJSONL.parse(text)
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzTraceImport(_:_:)``.
@_cdecl("fuzz_trace_import_main")
public func fuzzTraceImportMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzTraceImport($0, size) } ?? 0 }
}
