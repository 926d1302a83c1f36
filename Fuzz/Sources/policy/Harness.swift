import CFuzzDriver
import Policy

/// A policy's YAML loading and its linter on any text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Policy(yaml: text)
    _ = PolicyLinter.lint(text)
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzPolicy(_:_:)``.
@_cdecl("fuzz_policy_main")
public func fuzzPolicyMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzPolicy($0, size) } ?? 0 }
}
