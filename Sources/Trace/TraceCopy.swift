/// `airlock trace copy`: every run of one store into another (SQLite to PostgreSQL and back),
/// each verified against the trusted keys before it is stored, exactly as an import is.
public enum TraceCopy {
    /// What a copy did.
    public struct Outcome: Sendable, Hashable {
        /// Runs stored in the destination.
        public var copied: [String] = []
        /// Runs the destination already held, identical (nothing changed).
        public var alreadyPresent: [String] = []
        /// Runs not copied: still running (no `run.finished`) when `includeIncomplete` is off.
        public var skipped: [String] = []
    }

    /// Copies runs from `source` to `destination`.
    /// - Parameters:
    ///   - source: where the runs are read.
    ///   - destination: where they are stored, each with an `imported` ledger entry.
    ///   - runIDs: the runs to copy (default: all).
    ///   - trustedKeys: the keys whose checkpoints are accepted.
    ///   - ledgerKey: the destination's key, which signs its ledger.
    ///   - includeIncomplete: also copy runs without `run.finished` (default `false`: such a run may
    ///     still be recording, and its copy would stop at the events it had).
    /// - Throws: ``TraceError`` for the first run that does not verify (`import-rejected`), that
    ///   exists with other events (`run-exists`), or a storage failure; runs before it stay copied,
    ///   each complete (one transaction per run).
    public static func copy(
        from source: TraceStore, to destination: TraceStore, runIDs: [String]? = nil,
        trustedKeys: [TracePublicKey], ledgerKey: TraceSigningKey, includeIncomplete: Bool = false
    ) throws(TraceError) -> Outcome {
        var outcome = Outcome()
        let all = try source.runs()
        let chosen: [TraceRunSummary]
        if let runIDs {
            chosen = try runIDs.map { (id: String) throws(TraceError) -> TraceRunSummary in
                guard let found = all.first(where: { $0.runID == id }) else {
                    throw TraceError(.runNotFound, "no run '\(id)' in \(source.path) (see: airlock trace list)")
                }
                return found
            }
        } else {
            chosen = all
        }
        for summary in chosen {
            guard includeIncomplete || summary.finishedStatus != nil else {
                outcome.skipped.append(summary.runID)
                continue
            }
            let bundle = try source.bundle(runID: summary.runID)
            let result = try TraceImport.verifyAndStore(
                bundle, into: destination, trustedKeys: trustedKeys, ledgerKey: ledgerKey)
            if result.alreadyPresent {
                outcome.alreadyPresent.append(summary.runID)
            } else {
                outcome.copied.append(summary.runID)
            }
        }
        return outcome
    }
}
