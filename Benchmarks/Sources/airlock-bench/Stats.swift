import Foundation

/// Percentiles and clocks, the same for every benchmark.
enum Stats {
    /// The nearest-rank `p` percentile (0…1) of `values`; 0 for none.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    /// The median of `values`.
    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Nanoseconds since `start`.
    static func since(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) }

    /// Seconds `body` takes.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return since(start) / 1e9
    }
}

/// A benchmark could not run as set up: reported with the step that failed.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
