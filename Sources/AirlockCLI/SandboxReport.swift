import Sandbox

/// The short human summary printed after a sandboxed run (on stderr, after the program's output).
enum SandboxReport {
    static func summaryLines(_ record: ExecutionRecord) -> [String] {
        var lines: [String] = []
        let ending: String
        switch record.termination {
        case .exited(let code): ending = "exited \(code)"
        case .signaled(let signal): ending = "killed by signal \(signal)"
        }
        var notes: [String] = []
        if record.timedOut { notes.append("timed out after \(record.confinement.limits.wallTimeSeconds)s") }
        if record.oomKilled { notes.append("OOM-killed") }

        // A clean run is silent, like the program itself would be; anything notable is reported.
        let notable =
            record.termination != .exited(0) || !notes.isEmpty || record.stdout.truncated
            || record.stderr.truncated || !record.deniedSyscalls.isEmpty || !record.confinement.degradedLayers.isEmpty
        guard notable else { return [] }
        lines.append(
            "airlock: \(ending)\(notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")") in \(Units.duration(record.wallSeconds))"
        )
        for stream in [("stdout", record.stdout), ("stderr", record.stderr)] where stream.1.truncated {
            lines.append("airlock: \(stream.0) truncated: kept \(stream.1.bytes.count) of \(stream.1.totalBytes) bytes")
        }
        for denied in record.deniedSyscalls {
            let detail = denied.detail.map { " [\($0)]" } ?? ""
            lines.append("airlock: denied \(denied.name)\(detail) ×\(denied.count) (EPERM)")
        }
        if !record.confinement.degradedLayers.isEmpty {
            lines.append(
                "airlock: DEGRADED: ran without \(record.confinement.degradedLayers.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return lines
    }
}
