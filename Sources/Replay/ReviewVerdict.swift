import AirlockCore
import Foundation
import Trace

/// A reviewer's signed verdict on a run, kept as a chain of its own (workflow `airlock.review`,
/// run id `review-…`) whose `run.started` names the run and the head hash it judged; the run's
/// own chain is never touched. A verdict whose head no longer matches the run is shown as stale.
public struct ReviewVerdict: Sendable, Hashable {
    /// `ok` or `flag`.
    public enum Verdict: String, Sendable, Hashable, CaseIterable {
        /// The run is explained and acceptable.
        case ok
        /// The run needs attention.
        case flag
    }

    /// The workflow name review chains are recorded under.
    public static let workflow = "airlock.review"

    /// The review chain's id.
    public var reviewID: String
    /// The run judged.
    public var runID: String
    /// The run's head hash (hex) when it was judged.
    public var head: String
    /// The verdict.
    public var verdict: Verdict
    /// The reviewer's note.
    public var note: String
    /// Who judged.
    public var reviewer: String
    /// When (ns since 1970, the chain's start).
    public var at: Int64
    /// Whether the review chain verifies and the run's head is still the one judged.
    public var valid: Bool

    /// `ok by ana: "explained" (valid)`.
    public var summary: String {
        "\(verdict.rawValue) by \(reviewer): \"\(note)\"" + (valid ? "" : " (NOT VALID: chain broken or run changed)")
    }

    /// As JSON for `--json`.
    public var json: JSONValue {
        [
            "review_id": .string(reviewID), "run_id": .string(runID), "head": .string(head),
            "verdict": .string(verdict.rawValue), "note": .string(note), "reviewer": .string(reviewer),
            "at": .integer(at), "valid": .bool(valid),
        ]
    }

    /// Verifies `runID` and appends a verdict chain referencing its head hash.
    /// - Parameters:
    ///   - runID: the run judged; it must verify.
    ///   - verdict: `ok` or `flag`.
    ///   - note: the reviewer's note (required, at most `maxNoteBytes`).
    ///   - reviewer: who judges.
    ///   - store: the trace database.
    ///   - key: the signing key.
    ///   - trustedKeys: the keys the judged run may be signed by (default: `key`'s own).
    ///   - maxNoteBytes: the longest note accepted (default 4096).
    /// - Returns: the recorded verdict.
    /// - Throws: ``ReplayError`` `unverified` when the run does not verify, `trace` when the
    ///   verdict cannot be written, `malformed-record` for an empty or oversized note.
    public static func record(
        runID: String, verdict: Verdict, note: String, reviewer: String, store: TraceStore, key: TraceSigningKey,
        trustedKeys: [TracePublicKey]? = nil, maxNoteBytes: Int = 4096
    ) throws(ReplayError) -> ReviewVerdict {
        guard !note.isEmpty, note.utf8.count <= maxNoteBytes else {
            throw ReplayError(.malformedRecord, "--note: give a note of 1 to \(maxNoteBytes) bytes")
        }
        let run = try RecordedRun(runID: runID, store: store, trustedKeys: trustedKeys ?? [key.publicKey])
        guard run.events.first?.payload["workflow"]?.stringValue != workflow else {
            throw ReplayError(.malformedRecord, "\(runID) is itself a review; review the run it judges")
        }
        let head = run.head
        let reviewID = "review-\(UUID().uuidString.lowercased())"
        do {
            let recorder = try RunRecorder(
                store: store, key: key, runID: reviewID,
                started: [
                    "workflow": .string(workflow), "principal": .string(reviewer),
                    "review": [
                        "run_id": .string(runID), "head": .string(head), "verdict": .string(verdict.rawValue),
                        "note": .string(note),
                    ],
                ])
            _ = try recorder.finish(["status": "succeeded", "message": .string("verdict \(verdict.rawValue)")])
        } catch {
            throw ReplayError(
                .trace, "cannot record the verdict on \(runID) in \(store.path)", cause: error)
        }
        return ReviewVerdict(
            reviewID: reviewID, runID: runID, head: head, verdict: verdict, note: note, reviewer: reviewer,
            at: Int64(Date().timeIntervalSince1970 * 1e9), valid: true)
    }

    /// Every verdict in the store, by the run it judges, each checked: its chain verifies under
    /// `trustedKeys` and the run's head is still the one judged.
    /// - Throws: ``ReplayError`` `trace` when the store cannot be read.
    public static func all(in store: TraceStore, trustedKeys: [TracePublicKey]) throws(ReplayError)
        -> [String: [ReviewVerdict]]
    {
        let runs: [TraceRunSummary]
        do {
            runs = try store.runs()
        } catch {
            throw ReplayError(.trace, "cannot list runs in \(store.path)", cause: error)
        }
        var heads: [String: String] = [:]
        var out: [String: [ReviewVerdict]] = [:]
        for summary in runs where summary.workflow == workflow {
            let review: JSONValue
            let intact: Bool
            do {
                let chain = try RecordedRun(runID: summary.runID, store: store, trustedKeys: trustedKeys)
                review = chain.events.first?.payload["review"] ?? .null
                intact = true
            } catch {
                guard let events = try? store.events(runID: summary.runID), let first = try? events.first?.payload()
                else { continue }
                review = first["review"] ?? .null
                intact = false
            }
            guard let runID = review["run_id"]?.stringValue,
                let verdict = review["verdict"]?.stringValue.flatMap(Verdict.init(rawValue:))
            else { continue }
            if heads[runID] == nil {
                heads[runID] = (try? store.events(runID: runID).last.map { Hex.encode($0.hash) }) ?? ""
            }
            let head = review["head"]?.stringValue ?? ""
            out[runID, default: []].append(
                ReviewVerdict(
                    reviewID: summary.runID, runID: runID, head: head, verdict: verdict,
                    note: review["note"]?.stringValue ?? "", reviewer: summary.principal, at: summary.startedAt,
                    valid: intact && heads[runID] == head))
        }
        return out
    }
}
