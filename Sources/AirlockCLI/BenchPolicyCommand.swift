import ArgumentParser
import Foundation
import Policy

/// `airlock bench policy`: evaluation latency over a generated policy; prints p50 and p99.
struct BenchPolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Time policy evaluation (target: p50 <= 5 µs, p99 <= 50 µs with 200 rules)."
    )

    @Option(name: .long, help: "Rules in the generated policy.")
    var rules = 200

    @Option(name: .long, help: "Timed evaluations.")
    var evaluations = 200_000

    func run() async throws {
        let figures: PolicyBenchmark.Figures
        do {
            figures = try PolicyBenchmark(ruleCount: rules, evaluations: evaluations).run()
        } catch {
            PolicyFiles.report(error, file: "(generated policy)")
            throw ExitCode.dataError
        }
        func us(_ ns: Double) -> String { String(format: "%.2f µs", ns / 1000) }
        print("policy evaluation: \(figures.rules) rules, \(figures.evaluations) evaluations")
        print("  p50   \(us(figures.p50))   (target <= 5 µs)")
        print("  p99   \(us(figures.p99))   (target <= 50 µs)")
        print("  mean  \(us(figures.mean))")
        print("  load  \(us(figures.load)) (parse + compile once)")
        let mix = figures.effects.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        print("  effects over the inputs: \(mix.joined(separator: ", "))")
        print(
            "  regex whole-match: NSRegularExpression \(us(figures.nsRegexMatch)), Swift Regex \(us(figures.swiftRegexMatch))"
        )
        let met = figures.p50 <= 5000 && figures.p99 <= 50000
        print(met ? "  targets met" : "  TARGETS MISSED")
    }
}
