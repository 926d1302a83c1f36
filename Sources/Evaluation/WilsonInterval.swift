/// The Wilson score interval of a success rate: where the true rate lies at the given confidence,
/// from `successes` out of `trials`. Unlike the normal approximation it stays within 0…1 and says
/// something honest about a handful of attempts (0 of 3 is 0 %–56 %, not 0 %–0 %).
public struct WilsonInterval: Sendable, Hashable, Codable {
    /// The successes counted.
    public var successes: Int
    /// The attempts made.
    public var trials: Int
    /// The observed rate (0 when there were no attempts).
    public var rate: Double
    /// The interval's lower bound.
    public var lower: Double
    /// The interval's upper bound.
    public var upper: Double

    /// The normal quantile of a two-sided 95 % interval.
    public static let z95 = 1.959963984540054

    /// The interval of `successes` out of `trials`.
    /// - Parameter z: the normal quantile of the confidence (default 95 %, ``z95``).
    public init(successes: Int, trials: Int, z: Double = WilsonInterval.z95) {
        self.successes = successes
        self.trials = trials
        guard trials > 0 else {
            rate = 0
            lower = 0
            upper = 1
            return
        }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        rate = p
        lower = max(0, centre - half)
        upper = min(1, centre + half)
    }

    /// `67 % (21–94 %)`: the rate and its interval in whole percent.
    public var text: String {
        "\(Self.percent(rate)) (\(Self.percent(lower, sign: false))–\(Self.percent(upper)))"
    }

    static func percent(_ value: Double, sign: Bool = true) -> String {
        "\(Int((value * 100).rounded()))\(sign ? " %" : "")"
    }
}
