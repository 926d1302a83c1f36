import Foundation
import ModelRuntime
import Tools

extension Doctor {
    /// **model-artefacts**: every installed model artefact re-hashed against the installed lock
    /// copy, and that copy compared with the checkout's `manifests/models.lock` when there is one.
    ///
    /// Nothing installed is a `warn`, not a failure: a site may serve its model from a listed
    /// internal host or a loopback server and need no embedded model; `model-endpoint` is what
    /// proves where the model is.
    public func modelArtefacts() -> DoctorCheck {
        let id = "model-artefacts"
        let title = "the embedded model's artefacts match their pins"
        let store = ModelStore(root: configuration.modelDirectory)
        let installed: InstalledModel?
        do {
            installed = try store.installed()
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "the installation record is unreadable",
                evidence: ["\(error)"], remedy: "reinstall with airlock model install")
        }
        guard let installed else {
            return DoctorCheck(
                id: id, title: title, status: .warn, summary: "no embedded model is installed",
                evidence: ["\(store.installedFile.path): absent"],
                remedy:
                    "airlock run without --model needs one (airlock model install); a site using a listed internal host needs none"
            )
        }
        let lock: ModelLock
        let checks: [ArtefactCheck]
        do {
            lock = try ModelLock.load(store.lockFile)
            checks = try store.verify(against: lock)
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot verify the installation",
                evidence: ["\(error)"], remedy: "reinstall with airlock model install")
        }
        var evidence = ["lock \(store.lockFile.path) sha256 \(lock.digest), installed \(installed.installedAt)"]
        if installed.lockSHA256 != lock.digest {
            evidence.append("installed from a lock with sha256 \(installed.lockSHA256), not the copy kept with it")
        }
        for check in checks {
            let found = check.actual.map { "sha256 \($0)" } ?? "nothing"
            evidence.append(
                check.passed
                    ? "\(check.kind) \(check.path) sha256 \(check.expected)"
                    : "\(check.kind) \(check.path): \(check.problem ?? "differs"): pinned \(check.expected), found \(found)"
            )
        }
        let drifted = checks.filter { !$0.passed }
        if !drifted.isEmpty || installed.lockSHA256 != lock.digest {
            let names = drifted.map(\.name)
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: names.isEmpty
                    ? "the lock kept with the installation is not the one it was installed from"
                    : "\(names.count) of \(checks.count) artefacts differ from their pins: \(names.joined(separator: ", "))",
                evidence: evidence, remedy: "do not serve this model; reinstall with airlock model install")
        }
        if let checkout = configuration.checkoutLock, FileManager.default.fileExists(atPath: checkout.path) {
            let checkoutDigest = (try? ModelLock.load(checkout))?.digest
            guard checkoutDigest == lock.digest else {
                evidence.append("checkout lock \(checkout.path) sha256 \(checkoutDigest ?? "unreadable")")
                return DoctorCheck(
                    id: id, title: title, status: .warn,
                    summary: "\(checks.count) artefacts match the installed lock, which differs from \(checkout.path)",
                    evidence: evidence, remedy: "run airlock model install to follow the checkout's lock")
            }
            evidence.append("checkout lock \(checkout.path): the same")
        }
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "\(checks.count) artefacts match their pins (\(lock.defaultModel.name))", evidence: evidence)
    }

    /// **tool-artefacts**: every registered tool's stored executable re-hashed against its pin.
    public func toolArtefacts() -> DoctorCheck {
        let id = "tool-artefacts"
        let title = "every registered tool's executable matches its pin"
        let registry = ToolRegistry(home: configuration.registryHome)
        guard FileManager.default.fileExists(atPath: registry.databaseURL.path) else {
            return DoctorCheck(
                id: id, title: title, status: .skip, summary: "no tool is registered",
                evidence: ["\(registry.databaseURL.path): absent"])
        }
        let tools: [RegisteredTool]
        do {
            tools = try registry.list()
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the tool registry",
                evidence: ["\(error)"], remedy: "check \(registry.databaseURL.path)")
        }
        guard !tools.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .skip, summary: "no tool is registered",
                evidence: ["\(registry.databaseURL.path): no active tool"])
        }
        var evidence: [String] = []
        var drifted: [String] = []
        for tool in tools {
            do {
                let url = try registry.verifiedExecutable(of: tool)
                evidence.append("\(tool.reference): \(url.path) sha256 \(tool.manifest.executable.sha256)")
            } catch {
                drifted.append(tool.reference)
                evidence.append("\(tool.reference): [\(error.code.rawValue)] \(error.message)")
            }
        }
        guard drifted.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary:
                    "\(drifted.count) of \(tools.count) tools drifted from their pins: \(drifted.joined(separator: ", "))",
                evidence: evidence,
                remedy:
                    "find out who changed the stored executable; re-register the tool from its reviewed manifest (airlock tools add) — until then it is refused"
            )
        }
        return DoctorCheck(
            id: id, title: title, status: .pass, summary: "\(tools.count) tools match their pinned digests",
            evidence: evidence)
    }
}
