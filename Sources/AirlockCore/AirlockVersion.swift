/// The Airlock release this build is: printed by `airlock --version` and recorded in every
/// `run.started`.
public enum AirlockVersion {
    /// The version string.
    public static let current = "0.1.0"
}
