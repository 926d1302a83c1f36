/// Something that answers chat-completions requests: a server over HTTP, or a script.
public protocol ChatModel: Sendable {
    /// What the trace records as the model (`openai:unix:/var/lib/airlock/run/model/llama.sock`, `scripted:demo.yaml`).
    var name: String { get }
    /// `openai-compatible` or `scripted`: recorded so that a reviewer sees a scripted run as one.
    var kind: String { get }
    /// Answers one request.
    /// - Throws: ``ModelError`` when no answer could be had.
    func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse
}
