import AirlockCore
import Foundation
import Model

/// Time per request and tokens per second through Airlock's model client, against the server's
/// own reported timings on the same requests: the difference is what the client (and the HTTP
/// exchange over the unix socket) adds.
public struct ModelBenchmark: Sendable {
    /// One request's figures.
    public struct Sample: Sendable {
        /// Wall time through the client, connection to parsed reply, in milliseconds.
        public var clientMilliseconds: Double
        /// The server's `prompt_ms + predicted_ms`.
        public var serverMilliseconds: Double
        /// Tokens generated.
        public var generatedTokens: Int
        /// The server's `predicted_per_second`.
        public var serverTokensPerSecond: Double
    }

    /// The figures over every timed request (medians).
    public struct Figures: Sendable {
        /// Every timed request.
        public var samples: [Sample]
        /// Median client time per request, ms.
        public var clientMilliseconds: Double
        /// Median server-reported time per request, ms.
        public var serverMilliseconds: Double
        /// Median generated tokens per second as the client sees it (tokens / client time).
        public var clientTokensPerSecond: Double
        /// Median generation speed the server reports.
        public var serverTokensPerSecond: Double
        /// (client − server) / server, from the medians, in percent.
        public var overheadPercent: Double
    }

    /// The client under test.
    public let client: OpenAIChatClient
    /// Timed requests. Default 10.
    public var requests = 10
    /// Tokens generated per request. Default 128.
    public var maxTokens = 128

    /// Creates a benchmark against `client`.
    public init(client: OpenAIChatClient, requests: Int = 10, maxTokens: Int = 128) {
        self.client = client
        self.requests = requests
        self.maxTokens = maxTokens
    }

    /// Sends one warm-up request and `requests` timed ones (the same request each time).
    /// - Throws: ``ModelError`` from the client, or `malformed-response` when the server reports
    ///   no timings.
    public func run() async throws(ModelError) -> Figures {
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: "You are a helpful assistant."),
                ChatMessage(role: .user, content: "List the numbers from 1 to 300, separated by commas."),
            ], temperature: 0, maxTokens: maxTokens, seed: 42)
        _ = try await client.complete(request)
        var samples: [Sample] = []
        for _ in 0..<max(1, requests) {
            let start = DispatchTime.now().uptimeNanoseconds
            let response = try await client.complete(request)
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard let timings = response.serverTimings, let prompt = timings["prompt_ms"]?.doubleValue,
                let predicted = timings["predicted_ms"]?.doubleValue
            else {
                throw ModelError(.malformedResponse, "the server reports no timings (llama-server's `timings` object)")
            }
            samples.append(
                Sample(
                    clientMilliseconds: wall, serverMilliseconds: prompt + predicted,
                    generatedTokens: Int(timings["predicted_n"]?.integerValue ?? response.outputTokens ?? 0),
                    serverTokensPerSecond: timings["predicted_per_second"]?.doubleValue ?? 0))
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted[sorted.count / 2]
        }
        let client = median(samples.map(\.clientMilliseconds))
        let server = median(samples.map(\.serverMilliseconds))
        return Figures(
            samples: samples, clientMilliseconds: client, serverMilliseconds: server,
            clientTokensPerSecond: median(samples.map { Double($0.generatedTokens) / ($0.clientMilliseconds / 1000) }),
            serverTokensPerSecond: median(samples.map(\.serverTokensPerSecond)),
            overheadPercent: (client - server) / server * 100)
    }
}
