import Foundation
import Trace

extension Doctor {
    /// **trace-verifies**: every run in the trace database verifies offline against the local
    /// trace key (hash chain and signed checkpoints).
    public func traceVerifies() -> DoctorCheck {
        let id = "trace-verifies"
        let title = "every run in the trace verifies (hash chain and signatures)"
        let path = configuration.traceDatabase.path
        guard FileManager.default.fileExists(atPath: path) else {
            return DoctorCheck(
                id: id, title: title, status: .skip, summary: "nothing recorded yet", evidence: ["\(path): absent"])
        }
        let keyPath = configuration.keys.appendingPathComponent(TraceSigningKey.fileName).path
        var evidence = ["database \(path)"]
        var keys: [TracePublicKey] = []
        if FileManager.default.fileExists(atPath: keyPath) {
            do {
                let key = try TraceSigningKey.load(path: keyPath).publicKey
                keys.append(key)
                evidence.append("trusted key \(key.keyID) from \(keyPath)")
            } catch {
                evidence.append("trace key \(keyPath): \(error)")
            }
        } else {
            evidence.append("no local trace key at \(keyPath)")
        }
        do {
            for entry in try TraceTrustStore(keysDirectory: configuration.keys).entries() {
                keys.append(try TracePublicKey(text: entry.publicKey))
                evidence.append("trusted key \(entry.keyID) (\(entry.name)) from the trust store")
            }
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "the trusted-keys store cannot be read",
                evidence: evidence + ["\(error)"],
                remedy: "check \(configuration.keys.path)/\(TraceTrustStore.fileName)")
        }
        let verifier = TraceVerifier(trustedKeys: keys)
        var intact = 0
        var incomplete: [String] = []
        var broken: [RunVerification] = []
        let ledger: LedgerVerification
        do {
            let store = try TraceStore(path: path, configuration: .init(readOnly: true))
            ledger = try store.verifyLedger(trustedKeys: keys)
            for run in try store.runs() {
                let result = verifier.verify(try store.bundle(runID: run.runID))
                switch result.status {
                case .intact: intact += 1
                case .incomplete: incomplete.append(result.runID)
                case .broken: broken.append(result)
                }
            }
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the trace",
                evidence: evidence + ["\(error)"],
                remedy: "check \(path) (airlock trace verify --all)")
        }
        let total = intact + incomplete.count + broken.count
        evidence.append("\(total) runs: \(intact) intact, \(incomplete.count) incomplete, \(broken.count) broken")
        evidence.append(ledger.summary)
        if !ledger.intact {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "the run ledger and the trace disagree: \(ledger.problems.first ?? "")", evidence: evidence,
                remedy:
                    "treat the trace as tampered with: runs were deleted or the index rewritten (airlock trace verify --all)"
            )
        }
        if !incomplete.isEmpty {
            evidence.append(
                "incomplete (no run.finished: still running or interrupted; every present event chains): \(incomplete.prefix(5).joined(separator: ", "))\(incomplete.count > 5 ? ", …" : "")"
            )
        }
        if let first = broken.first {
            evidence.append("first failure: \(first.summary)")
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "\(broken.count) of \(total) runs do not verify; first: \(first.runID)", evidence: evidence,
                remedy:
                    "treat the trace as tampered with: keep a copy for investigation, compare it with exports (airlock trace verify \(first.runID))"
            )
        }
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: total == 0
                ? "no run recorded yet" : "\(total) runs verify (\(intact) intact, \(incomplete.count) incomplete)",
            evidence: evidence)
    }
}
