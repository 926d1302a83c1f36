import AirlockCore
import ArgumentParser
import Foundation
import ModelRuntime

/// `airlock model verify`: re-hashes every installed artefact against the lock.
struct ModelVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every installed model artefact against the lock; non-zero on drift.",
        discussion:
            "Exit codes: 0 every artefact matches, 1 drift (a digest differs or a file is missing), 66 nothing installed."
    )

    @Option(help: "The model lock (default: manifests/models.lock, else the installed copy).")
    var lock: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let (_, store) = try ModelCLI.home()
        let lock = try ModelCLI.lock(explicit: lock, store: store)
        let checks: [ArtefactCheck]
        let installed: InstalledModel?
        do {
            checks = try store.verify(against: lock)
            installed = try store.installed()
        } catch {
            throw CLI.fail(error)
        }
        let sameLock = installed?.lockSHA256 == lock.digest
        let passed = checks.allSatisfy(\.passed)
        if json {
            print(
                JSONValue.object([
                    "passed": .bool(passed), "store": .string(store.root.path), "lock_sha256": .string(lock.digest),
                    "installed_lock_sha256": installed.map { .string($0.lockSHA256) } ?? .null,
                    "checks": .array(checks.map(\.json)),
                ]).prettyString)
        } else {
            for check in checks {
                let mark = check.passed ? "ok  " : "FAIL"
                print(
                    "\(mark) \(check.kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(check.name)  sha256 \(check.actual ?? "-")"
                )
                if let problem = check.problem {
                    print(
                        "       \(problem): expected \(check.expected), found \(check.actual ?? "nothing") at \(check.path)"
                    )
                }
            }
            if !sameLock {
                print(
                    "note: installed from another lock (sha256 \(installed?.lockSHA256 ?? "-")); run airlock model install to follow this one"
                )
            }
            print(passed ? "verified: every artefact matches its pin" : "drift: see the lines marked FAIL")
        }
        if !passed { throw ExitCode.checkFailed }
    }
}
