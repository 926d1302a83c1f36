import AirlockCore

/// Why a model could not answer: an endpoint refused by the air-gap rule, a server that is down,
/// an HTTP error, a reply that is not the expected JSON, a script that is malformed or spent.
public typealias ModelError = AirlockError<ModelErrorCode>

/// What kind of failure a ``ModelError`` is, and the exit status it ends a command with.
public enum ModelErrorCode: String, AirlockErrorCode, Codable {
    /// The endpoint text is not `unix:PATH`, `http://HOST:PORT[/PATH]` or `script:FILE`.
    case invalidEndpoint = "invalid-endpoint"
    /// The endpoint is neither a unix socket nor loopback and the site does not list it.
    case endpointRefused = "endpoint-refused"
    /// Nothing answers at the endpoint (connection refused, no socket file, host unknown).
    case unreachable
    /// The server did not answer in time (the client's bound, or the time the run had left).
    case timeout
    /// The request was abandoned because its task was cancelled (the run was cancelled while
    /// the model generated): the connection is closed without waiting for the answer.
    case cancelled
    /// The server answered with a non-2xx status; the message carries its body.
    case httpStatus = "http-status"
    /// The reply is larger than the configured bound.
    case responseTooLarge = "response-too-large"
    /// The reply is not valid HTTP or not the expected chat-completions JSON.
    case malformedResponse = "malformed-response"
    /// A scripted model's file is malformed.
    case invalidScript = "invalid-script"
    /// A scripted model has no more responses.
    case scriptExhausted = "script-exhausted"
    /// A file (script, site configuration) could not be read.
    case io
    /// A setting (tool calling mode) has a value that is not one of the allowed words.
    case invalidSetting = "invalid-setting"
    /// In constrained tool calling, the reply is not one of the objects the schema allows
    /// (the grammar was not applied, or generation stopped at the token limit); the message
    /// carries the start of the content.
    case invalidToolReply = "invalid-tool-reply"

    /// The row of the exit-code table (docs/cli.md) each kind of failure ends a command with.
    public var exitStatus: CommandExit {
        switch self {
        case .invalidEndpoint, .invalidSetting: .usage
        case .endpointRefused, .unreachable, .timeout, .cancelled, .httpStatus, .responseTooLarge, .malformedResponse,
            .scriptExhausted, .invalidToolReply:
            .modelUnavailable
        case .invalidScript: .dataError
        case .io: .noInput
        }
    }
}
