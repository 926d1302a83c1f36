import AirlockCore

/// The per-database run ledger: a signed hash chain of the runs a trace database holds, so that
/// deleting a whole run (or only its `runs` row), re-creating a row, or rewriting the index's
/// workflow, principal or status is detected even though the run's own chain is intact.
///
/// Entries (canonical JSON, `purpose: airlock.trace.ledger.v1`):
/// - `genesis`: the ledger's first entry, listing the runs the database held before it existed
///   (adopted: their deletion is detected too);
/// - `opened`: a run started (`run`, `workflow`, `principal`, `started_ns`), written in the same
///   transaction as its `run.started`;
/// - `closed`: a run finished (`run`, `status`, `events`, `head`), in the transaction of its
///   `run.finished`;
/// - `imported`: a verified run was imported (`run`, `workflow`, `principal`, `started_ns`,
///   `status`, `events`, `head`).
///
/// `hash = SHA-256(prev_hash ‖ body)`; each entry is signed by the recording key over
/// `{"hash", "purpose", "seq"}`. Known limit: whoever owns the file can delete the ledger's newest
/// entries together with their runs; `airlock trace verify --all` prints the ledger head
/// (entries and hash) for a site to anchor elsewhere.
public enum TraceLedger {
    /// The purpose string of ledger bodies and signatures.
    public static let purpose = "airlock.trace.ledger.v1"

    /// One stored entry.
    public struct Entry: Sendable, Hashable {
        /// Its position, from 1.
        public var seq: Int64
        /// The canonical JSON body.
        public var body: [UInt8]
        /// The previous entry's hash (32 zero bytes for the first).
        public var prevHash: [UInt8]
        /// SHA-256(prev ‖ body).
        public var hash: [UInt8]
        /// The signing key's id.
        public var keyID: String
        /// Ed25519 over ``message(seq:hash:)``.
        public var signature: [UInt8]

        /// Creates an entry (a backend reading its rows).
        public init(
            seq: Int64, body: [UInt8], prevHash: [UInt8], hash: [UInt8], keyID: String, signature: [UInt8]
        ) {
            self.seq = seq
            self.body = body
            self.prevHash = prevHash
            self.hash = hash
            self.keyID = keyID
            self.signature = signature
        }
    }

    /// The bytes an entry's signature covers.
    static func message(seq: Int64, hash: [UInt8]) -> [UInt8] {
        (["hash": .string(Hex.encode(hash)), "purpose": .string(purpose), "seq": .integer(seq)] as JSONValue)
            .canonicalBytes
    }

    /// Appends one entry inside the caller's transaction; the ledger's first append writes the
    /// genesis entry first, adopting every run already stored.
    static func append(
        _ fields: [String: JSONValue], key: TraceSigningKey, into tx: any TraceWriting
    ) throws(TraceError) {
        var last = try tx.ledgerHead()
        if last == nil {
            let adopted = try tx.runIDs().map(JSONValue.string)
            last = try write(["entry": "genesis", "adopted": .array(adopted)], after: nil, key: key, tx: tx)
        }
        _ = try write(fields, after: last, key: key, tx: tx)
    }

    private static func write(
        _ fields: [String: JSONValue], after last: TraceHead?, key: TraceSigningKey, tx: any TraceWriting
    ) throws(TraceError) -> TraceHead {
        let seq = (last?.seq ?? 0) + 1
        let prev = last?.hash ?? TraceStoredEvent.genesisHash
        var body = fields
        body["purpose"] = .string(purpose)
        body["seq"] = .integer(seq)
        let bytes = JSONValue.object(body).canonicalBytes
        let hash = TraceStoredEvent.chainHash(prev: prev, body: bytes)
        let signature = try key.sign(message(seq: seq, hash: hash))
        try tx.insert(
            ledger: Entry(
                seq: seq, body: bytes, prevHash: prev, hash: hash, keyID: key.publicKey.keyID, signature: signature))
        return TraceHead(seq: seq, hash: hash)
    }
}

/// What the ledger says about a database's runs.
public struct LedgerVerification: Sendable, Hashable {
    /// How many entries the ledger holds.
    public var entries: Int
    /// The newest entry's hash in hex (empty for an empty ledger): what a site anchors elsewhere.
    public var head: String
    /// Every problem found, one line each, naming the run or entry.
    public var problems: [String]
    /// Runs stored before the ledger existed and not adopted by it (recorded by an earlier
    /// Airlock into a database that has no ledger yet): not covered.
    public var uncovered: [String]

    /// Whether the ledger and the index agree.
    public var intact: Bool { problems.isEmpty }

    /// One line for people.
    public var summary: String {
        let head = head.isEmpty ? "" : ", head \(head.prefix(16))…"
        if intact {
            let note = uncovered.isEmpty ? "" : "; \(uncovered.count) run(s) predate the ledger and are not covered"
            return "ledger: intact (\(entries) entries\(head))\(note)"
        }
        return "ledger: TAMPERED (\(entries) entries\(head)): " + problems.joined(separator: "; ")
    }
}

extension TraceStore {
    /// Checks the ledger's chain and signatures, and that it and the `runs` index agree: every
    /// ledgered run is present with the recorded workflow, principal, start and status; every run
    /// present is ledgered; a closed run's events end where the ledger says.
    /// - Parameter trustedKeys: the keys whose ledger signatures count.
    /// - Throws: ``TraceError`` when the database cannot be read.
    public func verifyLedger(trustedKeys: [TracePublicKey]) throws(TraceError) -> LedgerVerification {
        let keys = Dictionary(trustedKeys.map { ($0.keyID, $0) }, uniquingKeysWith: { a, _ in a })
        let entries = try backend.ledgerEntries()
        let heads = try backend.heads()
        let runs = try runs()
        var problems: [String] = []
        var prev = TraceStoredEvent.genesisHash
        // Per run: what the ledger recorded of it.
        var opened: [String: JSONValue] = [:]
        var closed: [String: JSONValue] = [:]
        var adopted: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let n = Int64(index + 1)
            guard entry.seq == n, entry.prevHash == prev,
                TraceStoredEvent.chainHash(prev: prev, body: entry.body) == entry.hash
            else {
                problems.append("ledger entry \(n) is missing, out of order or changed")
                break
            }
            guard let key = keys[entry.keyID] else {
                problems.append("ledger entry \(n) is signed by \(entry.keyID), which is not a trusted key")
                break
            }
            guard key.isValidSignature(entry.signature, for: TraceLedger.message(seq: entry.seq, hash: entry.hash))
            else {
                problems.append("ledger entry \(n)'s signature does not verify")
                break
            }
            prev = entry.hash
            guard let fields = try? JSONParser().parse(entry.body),
                let run = fields["run"]?.stringValue ?? "" as String?
            else { continue }
            switch fields["entry"]?.stringValue {
            case "genesis": adopted.formUnion((fields["adopted"]?.arrayValue ?? []).compactMap(\.stringValue))
            case "opened": opened[run] = fields
            case "closed": closed[run] = fields
            case "imported":
                opened[run] = fields
                closed[run] = fields
            default: problems.append("ledger entry \(n) has an unknown kind")
            }
        }
        let byID = Dictionary(runs.map { ($0.runID, $0) }, uniquingKeysWith: { a, _ in a })
        for run in opened.keys.sorted() where byID[run] == nil {
            problems.append("run \(run) is in the ledger but not in the trace: it was deleted")
        }
        for run in adopted.sorted() where byID[run] == nil {
            problems.append("run \(run) (adopted by the ledger) is not in the trace: it was deleted")
        }
        var uncovered: [String] = []
        for summary in runs {
            let id = summary.runID
            guard let open = opened[id] else {
                if adopted.contains(id) { continue }
                if entries.isEmpty {
                    uncovered.append(id)
                } else {
                    problems.append(
                        "run \(id) is in the trace but not in the ledger: its row was inserted or re-created")
                }
                continue
            }
            if open["workflow"]?.stringValue != summary.workflow || open["principal"]?.stringValue != summary.principal
                || open["started_ns"]?.integerValue != summary.startedAt
            {
                problems.append(
                    "run \(id): the runs row (workflow \(summary.workflow), principal \(summary.principal)) differs from the ledger's (workflow \(open["workflow"]?.stringValue ?? "?"), principal \(open["principal"]?.stringValue ?? "?"))"
                )
            }
            if let close = closed[id] {
                if close["status"]?.stringValue != summary.finishedStatus {
                    problems.append(
                        "run \(id): the runs row's status \(summary.finishedStatus ?? "none") differs from the ledger's \(close["status"]?.stringValue ?? "?")"
                    )
                }
                let head = heads[id]
                if close["events"]?.integerValue != head?.seq
                    || close["head"]?.stringValue != head.map({ Hex.encode($0.hash) })
                {
                    problems.append(
                        "run \(id): the ledger closed it at event \(close["events"]?.integerValue ?? 0), but its events end at \(head?.seq ?? 0) (truncated or extended)"
                    )
                }
            } else if summary.finishedStatus != nil {
                problems.append("run \(id): the runs row says finished, but the ledger never closed it")
            }
        }
        return LedgerVerification(
            entries: entries.count, head: entries.last.map { Hex.encode($0.hash) } ?? "", problems: problems,
            uncovered: uncovered)
    }
}
