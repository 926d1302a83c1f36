import CFuzzDriver
import Model

/// A model server's reply as the client reads it: HTTP/1.1 (Content-Length, chunked or
/// read-to-close), then the chat-completion JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? OpenAIChatClient.parseReply(bytes, maxResponseBytes: 1 << 20)
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over ``fuzzModelReply(_:_:)``.
@_cdecl("fuzz_model_reply_main")
public func fuzzModelReplyMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    al_fuzz_run(argc, argv) { data, size in data.map { fuzzModelReply($0, size) } ?? 0 }
}
