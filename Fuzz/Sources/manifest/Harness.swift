import CFuzzDriver
import Tools

/// A tool manifest's YAML decoding (fields, schema, argv, mounts) on any text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ManifestDecoder().decode(text: text)
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzManifest(_:_:)``.
@_cdecl("fuzz_manifest_main")
public func fuzzManifestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzManifest($0, size) } ?? 0 }
}
