/// Something that answers chat-completions requests: a server over HTTP, or a script.
public protocol ChatModel: Sendable {
    /// What the trace records as the model (`openai:unix:/var/lib/airlock/run/model/llama.sock`, `scripted:demo.yaml`).
    var name: String { get }
    /// `openai-compatible` or `scripted`: recorded so that a reviewer sees a scripted run as one.
    var kind: String { get }
    /// Answers one request.
    /// - Throws: ``ModelError`` when no answer could be had.
    func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse
    /// Answers one request, telling `generating` how far the reply has come while it is
    /// generated (a server that streams; others answer at once and never call it).
    /// - Throws: ``ModelError`` when no answer could be had.
    func complete(_ request: ChatRequest, generating: @escaping @Sendable (GenerationProgress) -> Void)
        async throws(ModelError) -> ChatResponse
}

extension ChatModel {
    /// A model that does not stream answers as ``complete(_:)`` does.
    public func complete(_ request: ChatRequest, generating: @escaping @Sendable (GenerationProgress) -> Void)
        async throws(ModelError) -> ChatResponse
    {
        try await complete(request)
    }
}

/// How far a streamed reply has come.
public struct GenerationProgress: Sendable, Hashable {
    /// Tokens generated so far (one per streamed event that carries text or call arguments).
    public var tokens: Int
    /// Seconds since the request was sent.
    public var seconds: Double

    /// Creates a progress report.
    public init(tokens: Int, seconds: Double) {
        self.tokens = tokens
        self.seconds = seconds
    }
}
