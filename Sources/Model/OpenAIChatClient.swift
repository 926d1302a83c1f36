import AirlockCore
import Foundation

/// A client for an OpenAI-compatible chat-completions server (llama.cpp's `llama-server`, vLLM,
/// Ollama) over a unix-domain socket or TCP.
///
/// Each request is one connection (`Connection: close`). A refused connection (or a socket file
/// not there yet) is retried with exponential backoff, since a local server may still be
/// starting; nothing else is retried, so a request the server received is never sent twice.
public struct OpenAIChatClient: ChatModel {
    /// Bounds of the client.
    public struct Configuration: Sendable, Hashable {
        /// The longest a request may take, connection to last byte, in seconds. Default 300.
        public var timeoutSeconds: Double
        /// The largest response body accepted, in bytes. Default 8 MiB.
        public var maxResponseBytes: Int
        /// How many times a refused connection is retried. Default 5.
        public var connectRetries: Int
        /// The first retry's delay in seconds, doubled each time. Default 0.2.
        public var initialBackoffSeconds: Double
        /// The model name sent in requests. Default `local`.
        public var modelName: String

        /// Creates a configuration.
        /// - Parameters:
        ///   - timeoutSeconds: per request (default 300).
        ///   - maxResponseBytes: response body bound (default 8 MiB).
        ///   - connectRetries: retries of a refused connection (default 5).
        ///   - initialBackoffSeconds: first retry delay, doubled each time (default 0.2).
        ///   - modelName: the `model` field of requests (default `local`).
        public init(
            timeoutSeconds: Double = 300, maxResponseBytes: Int = 8 << 20, connectRetries: Int = 5,
            initialBackoffSeconds: Double = 0.2, modelName: String = "local"
        ) {
            self.timeoutSeconds = timeoutSeconds
            self.maxResponseBytes = maxResponseBytes
            self.connectRetries = connectRetries
            self.initialBackoffSeconds = initialBackoffSeconds
            self.modelName = modelName
        }
    }

    /// Where the server is (a unix or TCP endpoint).
    public let endpoint: ModelEndpoint
    /// Bounds and retries.
    public let configuration: Configuration

    /// Creates a client.
    /// - Throws: ``ModelError`` `invalid-endpoint` for a `script:` endpoint.
    public init(endpoint: ModelEndpoint, configuration: Configuration = Configuration()) throws(ModelError) {
        if case .script = endpoint {
            throw ModelError(.invalidEndpoint, "\(endpoint) is a scripted model, not a server (use ScriptedModel)")
        }
        self.endpoint = endpoint
        self.configuration = configuration
    }

    /// `openai:` + the endpoint.
    public var name: String { "openai:\(endpoint)" }
    /// Always `openai-compatible`.
    public var kind: String { "openai-compatible" }

    /// Sends `request` and parses the reply.
    ///
    /// The request is bounded by the client's ``Configuration/timeoutSeconds`` or the request's
    /// own ``ChatRequest/timeoutSeconds``, whichever is shorter. Cancelling the calling task
    /// abandons the exchange at once (the connection is closed; no answer is waited for).
    /// - Throws: ``ModelError``: `unreachable`, `timeout`, `cancelled`, `http-status` (with the
    ///   body), `response-too-large`, `malformed-response`; `invalid-tool-reply` in constrained mode.
    public func complete(_ request: ChatRequest) async throws(ModelError) -> ChatResponse {
        try await complete(request) { _ in }
    }

    /// Sends `request` with the reply streamed (server-sent events), telling `generating` the
    /// tokens so far as they come, and parses the assembled reply as ``complete(_:)`` does; a
    /// server that answers with one JSON body instead is read as that.
    public func complete(_ request: ChatRequest, generating: @escaping @Sendable (GenerationProgress) -> Void)
        async throws(ModelError) -> ChatResponse
    {
        var request = request
        request.model = configuration.modelName
        request.stream = true
        let body = request.json.canonicalBytes
        var tightened = configuration
        if let timeout = request.timeoutSeconds {
            tightened.timeoutSeconds = min(tightened.timeoutSeconds, max(timeout, 0))
        }
        let bounds = tightened
        let interrupt: SocketInterrupt
        do {
            interrupt = try SocketInterrupt()
        } catch {
            throw ModelError(.unreachable, "model \(endpoint): the request could not be prepared", cause: error.text)
        }
        let result: Result<ChatResponse, ModelError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Blocking socket I/O runs on its own thread, off the cooperative pool.
                let thread = Thread {
                    continuation.resume(
                        returning: Result { () throws(ModelError) in
                            try self.exchange(body, bounds: bounds, interrupt: interrupt, generating: generating)
                        })
                }
                thread.start()
            }
        } onCancel: {
            interrupt.fire()
        }
        return try request.interpret(result.get())
    }

    private func exchange(
        _ body: [UInt8], bounds: Configuration, interrupt: SocketInterrupt,
        generating: @escaping @Sendable (GenerationProgress) -> Void
    ) throws(ModelError) -> ChatResponse {
        let sent = Date()
        let deadline = Date(timeIntervalSinceNow: bounds.timeoutSeconds)
        let socket = try connect(deadline: deadline, interrupt: interrupt)
        let (path, host) =
            switch endpoint {
            case .unix(_, let requestPath): (requestPath, "localhost")
            case .tcp(let host, let port, let requestPath): (requestPath, "\(host):\(port)")
            case .script: (ModelEndpoint.defaultRequestPath, "localhost")
            }
        var connection = HTTPConnection(socket: socket, maxResponseBytes: bounds.maxResponseBytes, deadline: deadline)
        // Progress only: the reply is assembled from the whole body by `interpret`, one way for
        // a streamed reply and one read back from bytes in hand.
        var progress = StreamedReply()
        var reported = 0
        return try Self.interpret(
            { () throws(HTTPConnection.Failure) in
                try connection.post(path: path, host: host, body: body) { bytes in
                    progress.feed(bytes)
                    guard progress.tokens > reported else { return }
                    reported = progress.tokens
                    generating(GenerationProgress(tokens: reported, seconds: Date().timeIntervalSince(sent)))
                }
            }, endpoint: endpoint, configuration: bounds)
    }

    /// Parses a whole model reply (HTTP/1.1 status line, headers, body) exactly as ``complete(_:)``
    /// parses one read from the socket: the same bounds, the same errors.
    /// - Parameters:
    ///   - reply: the reply's bytes, as the server sent them.
    ///   - maxResponseBytes: the largest body accepted (default 8 MiB, as the client's).
    /// - Returns: the response.
    /// - Throws: ``ModelError`` `http-status`, `response-too-large`, `malformed-response`.
    public static func parseReply(_ reply: [UInt8], maxResponseBytes: Int = 8 << 20) throws(ModelError)
        -> ChatResponse
    {
        var configuration = Configuration()
        configuration.maxResponseBytes = maxResponseBytes
        var connection = HTTPConnection(reply: reply, maxResponseBytes: maxResponseBytes)
        return try interpret(
            { () throws(HTTPConnection.Failure) in try connection.readReply() },
            endpoint: .unix(path: "(reply)", requestPath: ModelEndpoint.defaultRequestPath),
            configuration: configuration)
    }

    private static func interpret(
        _ read: () throws(HTTPConnection.Failure) -> HTTPConnection.Response, endpoint: ModelEndpoint,
        configuration: Configuration
    ) throws(ModelError) -> ChatResponse {
        let response: HTTPConnection.Response
        do {
            response = try read()
        } catch {
            switch error {
            case .socket(let failure) where failure.isCancelled:
                throw cancelled(endpoint)
            case .socket(let failure) where failure.isTimeout:
                throw ModelError(
                    .timeout,
                    "model \(endpoint): no complete answer within \(Self.seconds(configuration.timeoutSeconds)) s",
                    cause: failure.text)
            case .socket(let failure):
                throw ModelError(.unreachable, "model \(endpoint): the connection failed", cause: failure.text)
            case .tooLarge(let bytes):
                throw ModelError(
                    .responseTooLarge,
                    "model \(endpoint): the reply is \(bytes) bytes or more, above the \(configuration.maxResponseBytes) accepted"
                )
            case .malformed(let why):
                throw ModelError(.malformedResponse, "model \(endpoint): the reply is not valid HTTP: \(why)")
            }
        }
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body.prefix(2048), as: UTF8.self)
            throw ModelError(.httpStatus, "model \(endpoint): HTTP \(response.status): \(text)")
        }
        if response.headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true {
            var reply = StreamedReply()
            reply.feed(response.body)
            reply.feed([10])
            return try ChatResponse(json: try reply.completion(endpoint: endpoint))
        }
        let json: JSONValue
        do {
            json = try JSONParser().parse(response.body)
        } catch {
            throw ModelError(
                .malformedResponse, "model \(endpoint): the reply body is not valid JSON", cause: error)
        }
        return try ChatResponse(json: json)
    }

    /// `seconds` as the messages show it: to a tenth of a second.
    static func seconds(_ seconds: Double) -> String {
        let tenths = (seconds * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }

    private static func cancelled(_ endpoint: ModelEndpoint) -> ModelError {
        ModelError(.cancelled, "model \(endpoint): the request was cancelled before the answer came")
    }

    private func connect(deadline: Date, interrupt: SocketInterrupt) throws(ModelError) -> Socket {
        var delay = configuration.initialBackoffSeconds
        var attempt = 0
        while true {
            if interrupt.hasFired { throw Self.cancelled(endpoint) }
            do throws(Socket.Failure) {
                switch endpoint {
                case .unix(let path, _): return try Socket.connect(unixPath: path, interrupt: interrupt)
                case .tcp(let host, let port, _):
                    return try Socket.connect(host: host, port: port, interrupt: interrupt)
                case .script: throw Socket.Failure.notASocket("\(endpoint)")
                }
            } catch {
                guard error.isNotListening, attempt < configuration.connectRetries,
                    Date(timeIntervalSinceNow: delay) < deadline
                else {
                    throw ModelError(
                        .unreachable,
                        "model \(endpoint) is unreachable (is the model server running?) after \(attempt + 1) attempt(s)",
                        cause: error.text)
                }
                attempt += 1
                if interrupt.sleep(seconds: delay) { throw Self.cancelled(endpoint) }
                delay *= 2
            }
        }
    }
}
