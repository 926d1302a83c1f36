/// A secret a manifest declares (`secrets:`): the store entry, and how this tool receives it.
///
/// Only the declaring tool, only for the one call, receives it; the model never does.
public struct SecretDeclaration: Sendable, Hashable {
    /// How the tool receives a secret.
    public enum Delivery: Sendable, Hashable {
        /// A read-only file at `/run/secrets/NAME` on a private tmpfs (the default).
        case file
        /// A per-call token (instead of the long-lived value), also at `/run/secrets/NAME`.
        case token(audience: String?, ttlSeconds: Int)
        /// An environment variable, for tools that cannot read a file (opt-in).
        case environment(variable: String)
    }

    /// The store entry's name.
    public var name: String
    /// How it is delivered.
    public var delivery: Delivery

    /// Where file and token deliveries appear inside the sandbox.
    public static let directory = "/run/secrets"

    /// Creates a declaration.
    public init(name: String, delivery: Delivery = .file) {
        self.name = name
        self.delivery = delivery
    }

    /// The path inside the sandbox, for file and token deliveries.
    public var insidePath: String { Self.directory + "/" + name }
}
