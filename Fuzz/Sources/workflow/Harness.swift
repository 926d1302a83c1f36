import Agent
import CFuzzDriver
import Foundation

/// A workflow's YAML loading on any text (the policy it names is not read here).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflow(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Workflow(
        yaml: text, label: "fuzz.yaml", base: URL(fileURLWithPath: "/nonexistent"),
        sha256: String(repeating: "0", count: 64))
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzWorkflow(_:_:)``.
@_cdecl("fuzz_workflow_main")
public func fuzzWorkflowMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzWorkflow($0, size) } ?? 0 }
}
