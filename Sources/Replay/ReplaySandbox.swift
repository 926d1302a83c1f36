import AirlockCore
import Foundation
import Sandbox
import Tools

/// The sandbox's stand-in during a replay: returns the next recorded execution record instead of
/// running anything. The tool runner still renders argv, resolves mounts and checks the pinned
/// digest, so a change there shows as a divergence.
public final class ReplaySandbox: SandboxRunning {
    /// The recorded execution records, in order.
    public let records: RecordedSequence<ExecutionRecord>
    /// The identity the real sandbox would report (only used in error messages).
    public let hostIdentity: (uid: UInt32, gid: UInt32)
    /// Nothing runs, so no secret is delivered.
    public var runsPrograms: Bool { false }

    /// Creates a stand-in from recorded `tool.executed` payloads (blobs resolved).
    /// - Parameters:
    ///   - payloads: the `tool.executed` payloads in order.
    ///   - hostIdentity: the uid and gid reported (default 65534:65534).
    /// - Throws: ``ReplayError`` `malformed-record` naming the event whose record does not decode.
    public init(payloads: [JSONValue], hostIdentity: (uid: UInt32, gid: UInt32) = (65534, 65534)) throws(ReplayError) {
        var records: [ExecutionRecord] = []
        for (index, payload) in payloads.enumerated() {
            do {
                let bytes = (payload["record"] ?? .null).canonicalBytes
                records.append(try JSONDecoder().decode(ExecutionRecord.self, from: Data(bytes)))
            } catch {
                throw ReplayError(
                    .malformedRecord, "tool.executed #\(index + 1): its record does not decode", cause: "\(error)")
            }
        }
        self.records = RecordedSequence(records)
        self.hostIdentity = hostIdentity
    }

    /// The next recorded record.
    /// - Throws: ``SandboxError`` when the replay runs more calls than were recorded.
    public func run(_ spec: SandboxSpec) async throws(SandboxError) -> ExecutionRecord {
        guard let record = records.next() else {
            throw SandboxError(
                .invalidSpec,
                "replay: the run recorded \(records.items.count) executions; the replay ran \(spec.program) once more")
        }
        return record
    }
}
