import Foundation
import Runs
import Trace
import TracePostgres

extension Doctor {
    /// **trace-verifies**: every run in the trace database verifies offline against the local
    /// trace key (hash chain and signed checkpoints).
    public func traceVerifies() -> DoctorCheck {
        let id = "trace-verifies"
        let title = "every run in the trace verifies (hash chain and signatures)"
        // The site's shared trace when site.yaml names one, else the home's file.
        let site = (try? SiteConfiguration.load(configuration.siteFile))?.trace
        let location = site.flatMap { try? TraceLocation($0) } ?? .sqlite(configuration.traceDatabase.path)
        let path = location.isPostgres ? location.description : configuration.traceDatabase.path
        guard location.isPostgres || FileManager.default.fileExists(atPath: path) else {
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
            let store = try location.open(readOnly: true)
            ledger = try store.verifyLedger(trustedKeys: keys)
            for run in try store.runs() {
                let result = try verifier.verify(runID: run.runID, in: store)
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

extension Doctor {
    /// **trace-grants**: when the site records into PostgreSQL (`site.yaml` `trace:`), the role it
    /// logs in as may only SELECT and INSERT the trace tables: no UPDATE, DELETE or TRUNCATE, not
    /// a superuser, not their owner. Skipped for the embedded SQLite trace.
    public func traceGrants() -> DoctorCheck {
        let id = "trace-grants"
        let title = "the workers' database role cannot erase the trace"
        let site: SiteConfiguration
        do {
            site = try SiteConfiguration.load(configuration.siteFile)
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "site.yaml cannot be read", evidence: ["\(error)"],
                remedy: "fix \(configuration.siteFile.path)")
        }
        guard let text = site.trace, case .postgres(let url)? = try? TraceLocation(text) else {
            return DoctorCheck(
                id: id, title: title, status: .skip, summary: "the trace is the embedded SQLite file",
                evidence: ["site.yaml names no postgres:// trace"])
        }
        let findings: [PostgresSchema.GrantFinding]
        do {
            findings = try PostgresSchema.checkWorkerGrants(try PostgresSession(url: url))
        } catch let error as PostgresFailure {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the grants",
                evidence: ["\(url)", "\(error)"],
                remedy: "check the server is up and that `airlock db init` was run")
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the grants",
                evidence: ["\(url)", "\(error)"],
                remedy: "run `airlock db init --database postgres://OWNER@…` as the database's owner")
        }
        let bad = findings.filter { !$0.ok }
        let evidence = ["\(url)"] + findings.map { "\($0.ok ? "ok" : "WRONG") \($0.subject): \($0.detail)" }
        guard bad.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "\(url.user) can do more than read and append: \(bad.map(\.subject).joined(separator: ", "))",
                evidence: evidence,
                remedy: "log workers in as the role `airlock db init` made, and run db init again to reset the grants")
        }
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary:
                "\(url.user) may only SELECT and INSERT the \(PostgresSchema.traceTables.count) trace tables and the approval tables, and cannot answer an approval",
            evidence: evidence)
    }
}
