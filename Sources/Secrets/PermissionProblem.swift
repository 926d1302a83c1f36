/// A file of the secret store or of a key whose mode lets group or others in
/// (what `airlock doctor` reports).
public struct PermissionProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file or directory.
    public var path: String
    /// Its permission bits.
    public var mode: UInt32
    /// The mode it must have (0700 for directories, 0600 for files).
    public var expected: UInt32

    /// `PATH has mode 644; expected 600 (run: chmod 600 PATH)`.
    public var description: String {
        "\(path) has mode \(String(mode, radix: 8)); expected \(String(expected, radix: 8)) "
            + "(run: chmod \(String(expected, radix: 8)) \(path))"
    }
}
