import Foundation
import Secrets

/// The redactor, which every string bound for the model or the trace passes through, and a store
/// round trip: figures for information (no anchor).
struct SecretsBench {
    /// Secrets the redactor knows.
    var secrets = 50
    /// Short strings timed.
    var shortStrings = 100_000

    func run(scratch: URL) throws -> [Row] {
        var values: [String: [UInt8]] = [:]
        for i in 0..<secrets { values["SECRET_\(i)"] = Array("value-\(i)-\(UUID().uuidString)".utf8) }
        let redactor = SecretRedactor(values: values)
        let line = "2026-01-01T00:00:00Z INFO payments request ok latency=12ms user=alice path=/api/v1/items\n"
        let clean = String(repeating: line, count: (1 << 20) / line.utf8.count)
        let leak = String(decoding: values["SECRET_0"] ?? [], as: UTF8.self)
        let dirty = String(repeating: String(repeating: line, count: 4096 / line.utf8.count) + leak + "\n", count: 256)
        _ = redactor.redact(clean)
        let cleanSeconds = Stats.median((0..<5).map { _ in Stats.seconds { _ = redactor.redact(clean) } })
        var replacements = 0
        let dirtySeconds = Stats.median(
            (0..<5).map { _ in Stats.seconds { replacements = redactor.redact(dirty).counts.values.reduce(0, +) } })
        let short = "tool.result content: 3 matches in /data/logs/app.log"
        let shortSeconds = Stats.seconds { for _ in 0..<shortStrings { _ = redactor.redacted(short) } }

        let home = scratch.appendingPathComponent("secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let store = SecretStore(home: home)
        for (name, value) in values { try store.set(name, value: value) }
        let storeSeconds = try Stats.seconds {
            try store.set("BENCH_ONE", value: Array("bench-value-123".utf8))
            _ = try store.value(of: "BENCH_ONE")
        }
        return [
            Row(
                id: "secrets.redact_clean", what: "redact 1 MiB holding no secret", figure: cleanSeconds * 1000,
                unit: "ms", anchor: nil, anchorName: "—", comparison: .none,
                note: "\(secrets) secrets (\(secrets * 9)+ forms)"),
            Row(
                id: "secrets.redact_dirty", what: "redact 1 MiB, a secret every 4 KiB", figure: dirtySeconds * 1000,
                unit: "ms", anchor: nil, anchorName: "—", comparison: .none, note: "\(replacements) replaced"),
            Row(
                id: "secrets.redact_short", what: "redact a short string holding no secret",
                figure: shortSeconds / Double(shortStrings) * 1e9, unit: "ns", anchor: nil, anchorName: "—",
                comparison: .none),
            Row(
                id: "secrets.store", what: "secret store set + read", figure: storeSeconds * 1000, unit: "ms",
                anchor: nil, anchorName: "—", comparison: .none, note: "\(secrets + 1) entries; mostly the fsync"),
        ]
    }
}
