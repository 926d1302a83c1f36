import Foundation

/// Durations and sizes the way people read them: `36.2 ms`, `1.5 s`, `128 MiB`.
enum Units {
    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.1f ms", seconds * 1000) }
        return String(format: "%.2f s", seconds)
    }

    static func bytes<N: BinaryInteger>(_ count: N) -> String {
        let value = Double(count)
        for (unit, size) in [("GiB", 1_073_741_824.0), ("MiB", 1_048_576.0), ("KiB", 1024.0)] where value >= size {
            let scaled = value / size
            return scaled.rounded() == scaled ? "\(Int(scaled)) \(unit)" : String(format: "%.1f \(unit)", scaled)
        }
        return "\(count) B"
    }
}
