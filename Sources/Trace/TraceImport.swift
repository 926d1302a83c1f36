/// The transfer gate into a review enclave: verify first, store only what verifies.
public enum TraceImport {
    /// What an import did.
    public struct Outcome: Sendable, Hashable {
        /// The verification of the run.
        public var verification: RunVerification
        /// `true` when the very same run (same events, same head) was already stored: nothing changed.
        public var alreadyPresent: Bool
    }

    /// Parses a JSONL export, verifies it against `trustedKeys`, and stores it if it is intact,
    /// with an `imported` ledger entry signed by `ledgerKey`, in one transaction.
    /// - Parameters:
    ///   - text: the export.
    ///   - store: the destination database.
    ///   - trustedKeys: the keys whose checkpoints are accepted.
    ///   - ledgerKey: the destination's own key, which signs its ledger.
    /// - Returns: the verification, and whether the run was already there (a no-op).
    /// - Throws: ``TraceError`` `malformed-export` for a bad file, `import-rejected` when it does not
    ///   verify as intact against a trusted key, `run-exists` when another run with that id is stored.
    public static func verifyAndStore(
        _ text: String, into store: TraceStore, trustedKeys: [TracePublicKey], ledgerKey: TraceSigningKey
    ) throws(TraceError) -> Outcome {
        try verifyAndStore(try TraceJSONL.parse(text), into: store, trustedKeys: trustedKeys, ledgerKey: ledgerKey)
    }

    /// Verifies one run's bundle against `trustedKeys` and stores it if it is intact, as
    /// ``verifyAndStore(_:into:trustedKeys:ledgerKey:)`` does for an export's text (`trace copy`).
    /// - Throws: ``TraceError`` `import-rejected`, `run-exists`, or a storage failure.
    public static func verifyAndStore(
        _ bundle: TraceRunBundle, into store: TraceStore, trustedKeys: [TracePublicKey], ledgerKey: TraceSigningKey
    ) throws(TraceError) -> Outcome {
        let runID = bundle.summary.runID
        guard !trustedKeys.isEmpty else {
            throw TraceError(
                .importRejected,
                "import of run \(runID): no trusted key (airlock trace trust add PUBKEY, or give --key PUBKEY)")
        }
        let result = TraceVerifier(trustedKeys: trustedKeys).verify(bundle)
        guard result.status == .intact else {
            throw TraceError(.importRejected, "import of run \(runID) refused", cause: result.summary)
        }
        if let stored = try? store.events(runID: runID), !stored.isEmpty {
            guard stored.count == bundle.events.count, stored.last?.hash == bundle.events.last?.hash else {
                throw TraceError(
                    .runExists,
                    "run \(runID) is already stored with other events (\(stored.count) events here, \(bundle.events.count) in the export); nothing was imported"
                )
            }
            return Outcome(verification: result, alreadyPresent: true)
        }
        try store.insert(bundle, ledgerKey: ledgerKey)
        return Outcome(verification: result, alreadyPresent: false)
    }
}
