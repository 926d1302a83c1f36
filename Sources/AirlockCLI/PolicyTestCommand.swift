import ArgumentParser
import Foundation
import Policy

/// `airlock policy test`: run the cases written beside a policy, like `opa test`.
///
/// Exit status: 0 all passed, 1 any case failed, 65 a malformed test or policy file, 66 missing file.
struct PolicyTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run policy test files; exit 1 if any case fails."
    )

    @Argument(help: "Test files (YAML); each names its policy relative to itself.")
    var files: [String]

    func run() async throws {
        var passed = 0
        var failed = 0
        for file in files {
            let text = try PolicyFiles.read(file, what: "test file")
            let suite: PolicyTestSuite
            do {
                suite = try PolicyTestSuite(yaml: text)
            } catch {
                PolicyFiles.report(error, file: file)
                throw ExitCode.dataError
            }
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
            let policyPath =
                suite.policyPath.hasPrefix("/")
                ? suite.policyPath : directory.appendingPathComponent(suite.policyPath).path
            let policy = try PolicyFiles.loadPolicy(policyPath)
            print("\(file) (policy \(policy.name)):")
            for result in suite.run(policy) {
                print("  " + result.text)
                if result.passed { passed += 1 } else { failed += 1 }
            }
        }
        print(String(repeating: "-", count: 60))
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.checkFailed }
    }
}
