import Foundation

/// Measures the redactor, which every string bound for the model or the trace passes through,
/// and a store round trip (`airlock bench secrets`).
public struct SecretsBenchmark: Sendable {
    /// What one benchmark run measured.
    public struct Figures: Sendable {
        /// Secrets the redactor knew.
        public var secrets: Int
        /// Seconds to redact a 1 MiB text holding no secret.
        public var cleanMiB: Double
        /// Seconds to redact a 1 MiB text holding a secret form every 4 KiB.
        public var dirtyMiB: Double
        /// Replacements made in the dirty text.
        public var replacements: Int
        /// Nanoseconds per short string (a typical trace field) holding no secret.
        public var shortString: Double
        /// Seconds for `set` followed by `value(of:)` on a store holding ``secrets`` entries.
        public var storeRoundTrip: Double
    }

    /// Secrets the redactor knows. Default 50.
    public var secrets: Int
    /// Short strings timed. Default 100,000.
    public var shortStrings: Int

    /// A benchmark.
    /// - Parameters:
    ///   - secrets: how many secrets the redactor knows (default 50).
    ///   - shortStrings: how many short strings are timed (default 100,000).
    public init(secrets: Int = 50, shortStrings: Int = 100_000) {
        self.secrets = secrets
        self.shortStrings = shortStrings
    }

    /// Runs it in a temporary `AIRLOCK_HOME` (removed afterwards).
    /// - Throws: ``SecretsError`` when the temporary store cannot be written.
    public func run() throws(SecretsError) -> Figures {
        var values: [String: [UInt8]] = [:]
        for i in 0..<secrets { values["SECRET_\(i)"] = Array("value-\(i)-\(UUID().uuidString)".utf8) }
        let redactor = SecretRedactor(values: values)
        let line = "2026-01-01T00:00:00Z INFO payments request ok latency=12ms user=alice path=/api/v1/items\n"
        let clean = String(repeating: line, count: (1 << 20) / line.utf8.count)
        let leak = String(decoding: values["SECRET_0"] ?? [], as: UTF8.self)
        let dirty = String(repeating: String(repeating: line, count: 4096 / line.utf8.count) + leak + "\n", count: 256)

        let cleanSeconds = Self.seconds { _ = redactor.redact(clean) }
        var replacements = 0
        let dirtySeconds = Self.seconds { replacements = redactor.redact(dirty).counts.values.reduce(0, +) }
        let short = "tool.result content: 3 matches in /data/logs/app.log"
        let shortSeconds = Self.seconds { for _ in 0..<shortStrings { _ = redactor.redacted(short) } }

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let store = SecretStore(home: home)
        for (name, value) in values { try store.set(name, value: value) }
        var failure: SecretsError?
        let storeSeconds = Self.seconds {
            do throws(SecretsError) {
                try store.set("BENCH_ONE", value: Array("bench-value-123".utf8))
                _ = try store.value(of: "BENCH_ONE")
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return Figures(
            secrets: secrets, cleanMiB: cleanSeconds, dirtyMiB: dirtySeconds, replacements: replacements,
            shortString: shortSeconds / Double(max(shortStrings, 1)) * 1e9, storeRoundTrip: storeSeconds)
    }

    private static func seconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
