/// The transfer gate into a review enclave: verify first, store only what verifies.
public enum TraceImport {
    /// Parses a JSONL export, verifies it against `trustedKeys`, and stores it if it is intact.
    /// - Parameters:
    ///   - text: the export.
    ///   - store: the destination database.
    ///   - trustedKeys: the keys whose checkpoints are accepted.
    /// - Returns: the verification of the stored run.
    /// - Throws: ``TraceError`` `malformed-export` for a bad file, `import-rejected` when it does not
    ///   verify as intact against a trusted key, `run-exists` when the run is already there.
    public static func verifyAndStore(
        _ text: String, into store: TraceStore, trustedKeys: [TracePublicKey]
    ) throws(TraceError) -> RunVerification {
        let bundle = try TraceJSONL.parse(text)
        guard !trustedKeys.isEmpty else {
            throw TraceError(
                .importRejected, "import of run \(bundle.summary.runID): no trusted key (give --key PUBKEY)")
        }
        let result = TraceVerifier(trustedKeys: trustedKeys).verify(bundle)
        guard result.status == .intact else {
            throw TraceError(.importRejected, "import of run \(bundle.summary.runID) refused", cause: result.summary)
        }
        try store.insert(bundle)
        return result
    }
}
