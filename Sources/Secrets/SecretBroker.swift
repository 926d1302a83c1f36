import Foundation

/// What one run hands its tool calls: values from the store (each read fresh, so a rotation takes
/// effect at the next call, and marked as used), per-call tokens, and the redactor that learns
/// every token it mints.
public struct SecretBroker: Sendable {
    /// The store values come from.
    public let store: SecretStore
    /// Where the token-signing key lives (`AIRLOCK_HOME/keys`).
    public let keysDirectory: URL
    /// The run's redactor; minted tokens are added to it.
    public let redactor: SecretRedactor

    /// A broker over `store`.
    /// - Parameters:
    ///   - store: the secret store.
    ///   - keysDirectory: the keys directory holding `token-signing.key` (created on first token).
    ///   - redactor: the run's redactor (default: one that knows every value in the store now).
    /// - Throws: ``SecretsError`` when the store cannot be read to build the default redactor.
    public init(store: SecretStore, keysDirectory: URL, redactor: SecretRedactor? = nil) throws(SecretsError) {
        self.store = store
        self.keysDirectory = keysDirectory
        if let redactor {
            self.redactor = redactor
        } else {
            self.redactor = SecretRedactor(values: try store.allValues(), minimumBytes: store.minimumValueBytes)
        }
    }

    /// The current value of `name` for one call; records it as used.
    /// - Throws: ``SecretsError`` `unknown-name` when the store has no such secret, or when the store fails.
    public func value(for name: String) throws(SecretsError) -> [UInt8] {
        let (_, value) = try store.value(of: name)
        try store.markUsed(name)
        redactor.add(name: name, value: value)
        return value
    }

    /// Mints a token standing for `name` for one call; the store must hold `name` (records it as
    /// used). The token is added to the redactor before it is returned.
    /// - Throws: ``SecretsError`` `unknown-name`, or when the store or the token key fails.
    public func token(
        for name: String, runID: String, tool: String, argumentsDigest: String, audience: String?, ttlSeconds: Int
    ) throws(SecretsError) -> String {
        _ = try store.value(of: name)
        guard let issuer = try TokenIssuer.load(keysDirectory: keysDirectory) else {
            throw SecretsError(.io, "no token-signing key in \(keysDirectory.path)")
        }
        let (_, compact) = try issuer.mint(
            secret: name, runID: runID, tool: tool, argumentsDigest: argumentsDigest, audience: audience,
            ttlSeconds: ttlSeconds)
        try store.markUsed(name)
        redactor.add(name: name, value: compact)
        return compact
    }
}
