import AirlockCore
import AirlockTestSupport
import Foundation
import Testing
import Trace
import TracePostgres

/// A database of its own on the process's throw-away cluster, initialised by `db init`.
struct PostgresTraceFixture {
    let server: PostgresTestServer
    let database: String
    let owner: TraceStore

    init(_ prefix: String = "trace") throws {
        server = try PostgresTestServer.start()
        database = try server.createDatabase(prefix)
        let session = try PostgresSession(url: try PostgresURL(server.url(database: database)))
        try PostgresSchema.initialize(session)
        owner = TraceStore(backend: try PostgresTraceBackend(session: session))
    }

    /// A store logged in as `role`.
    func store(as role: String) throws -> TraceStore {
        try TraceLocation(server.url(user: role, database: database)).open()
    }

    /// Records a run of `events` error events (one above the blob threshold) and finishes it.
    @discardableResult
    static func record(
        _ store: TraceStore, key: TraceSigningKey, runID: String, events: Int = 8, clock: TraceClock = .stepping()
    ) throws -> RunRecorder {
        let recorder = try RunRecorder(
            store: store, key: key, runID: runID, started: ["workflow": "triage", "principal": "ana"],
            options: TraceRecorderOptions(checkpointInterval: 3, blobThreshold: 64, clock: clock))
        for i in 0..<events {
            let text = i == 2 ? String(repeating: "large output ", count: 20) : "result \(i)"
            try recorder.append(.error, ["stage": .string("s\(i)"), "message": .string(text)])
        }
        try recorder.finish(["status": "succeeded"])
        return recorder
    }
}

@Suite("The trace on PostgreSQL: one store interface, the same chain, checkpoints, ledger and verifier")
struct PostgresTraceTests {
    @Test func aRunRecordedOnPostgresIsByteIdenticalToTheSameRunOnSQLiteAndVerifies() throws {
        let fixture = try PostgresTraceFixture()
        let key = try TraceSigningKey.generate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try TraceStore(path: directory.appendingPathComponent("trace.sqlite").path)
        try PostgresTraceFixture.record(fixture.owner, key: key, runID: "r1")
        try PostgresTraceFixture.record(sqlite, key: key, runID: "r1")

        let onPostgres = try fixture.owner.bundle(runID: "r1")
        let onSQLite = try sqlite.bundle(runID: "r1")
        #expect(onPostgres == onSQLite)
        #expect(onPostgres.blobs.count == 1)
        #expect(onPostgres.summary.finishedStatus == "succeeded" && onPostgres.summary.events == 10)
        let verdict = TraceVerifier(trustedKeys: [key.publicKey]).verify(onPostgres)
        #expect(verdict.status == .intact, "\(verdict.summary)")
        let ledger = try fixture.owner.verifyLedger(trustedKeys: [key.publicKey])
        #expect(ledger.intact && ledger.entries == 3, "\(ledger.summary)")
        #expect(try fixture.owner.runs().map(\.status) == ["finished:succeeded"])
    }

    @Test func tracesCopyFromSQLiteToPostgresAndBackVerified() throws {
        let fixture = try PostgresTraceFixture("copy")
        let key = try TraceSigningKey.generate()
        let destinationKey = try TraceSigningKey.generate()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try TraceStore(path: directory.appendingPathComponent("a.sqlite").path)
        for id in ["r1", "r2"] { try PostgresTraceFixture.record(source, key: key, runID: id) }
        // Still recording: not copied unless asked.
        _ = try RunRecorder(store: source, key: key, runID: "r3", started: ["workflow": "w", "principal": "p"])

        let there = try TraceCopy.copy(
            from: source, to: fixture.owner, trustedKeys: [key.publicKey], ledgerKey: destinationKey)
        #expect(there.copied == ["r1", "r2"] && there.skipped == ["r3"])
        let again = try TraceCopy.copy(
            from: source, to: fixture.owner, trustedKeys: [key.publicKey], ledgerKey: destinationKey)
        #expect(again.alreadyPresent == ["r1", "r2"] && again.copied.isEmpty)

        let back = try TraceStore(path: directory.appendingPathComponent("b.sqlite").path)
        let returned = try TraceCopy.copy(
            from: fixture.owner, to: back, trustedKeys: [key.publicKey], ledgerKey: destinationKey)
        #expect(returned.copied == ["r1", "r2"])
        for id in ["r1", "r2"] {
            #expect(try back.bundle(runID: id) == source.bundle(runID: id))
            #expect(TraceVerifier(trustedKeys: [key.publicKey]).verify(try back.bundle(runID: id)).status == .intact)
        }
        for store in [fixture.owner, back] {
            let ledger = try store.verifyLedger(trustedKeys: [destinationKey.publicKey])
            #expect(ledger.intact, "\(ledger.summary)")
        }
        // A key the destination does not trust: refused, nothing stored.
        let stranger = try TraceSigningKey.generate()
        let other = try TraceStore(path: directory.appendingPathComponent("c.sqlite").path)
        #expect(throws: TraceError.self) {
            try TraceCopy.copy(from: source, to: other, trustedKeys: [stranger.publicKey], ledgerKey: destinationKey)
        }
        #expect(try other.runs().isEmpty)
    }

    @Test func concurrentWritersOnSeparateConnectionsKeepOneIntactLedger() async throws {
        let fixture = try PostgresTraceFixture("concurrent")
        let key = try TraceSigningKey.generate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                let store = try fixture.store(as: "airlock_worker")
                group.addTask {
                    for run in 0..<5 {
                        try PostgresTraceFixture.record(store, key: key, runID: "w\(writer)-\(run)", events: 4)
                    }
                }
            }
            try await group.waitForAll()
        }
        let runs = try fixture.owner.runs()
        #expect(runs.count == 20 && runs.allSatisfy { $0.finishedStatus == "succeeded" })
        let ledger = try fixture.owner.verifyLedger(trustedKeys: [key.publicKey])
        #expect(ledger.intact && ledger.entries == 41, "\(ledger.summary)")
        for run in runs {
            #expect(
                TraceVerifier(trustedKeys: [key.publicKey]).verify(try fixture.owner.bundle(runID: run.runID)).status
                    == .intact)
        }
    }

    @Test func anEditMadeByTheOwnerPastTheTriggersIsCaughtByTheSharedVerifier() throws {
        let fixture = try PostgresTraceFixture("tamper")
        let key = try TraceSigningKey.generate()
        try PostgresTraceFixture.record(fixture.owner, key: key, runID: "r1")
        try fixture.server.psql(
            """
            ALTER TABLE airlock.events DISABLE TRIGGER events_append_only;
            UPDATE airlock.events SET body = convert_to(replace(convert_from(body, 'UTF8'), 'result 4', 'result 9'), 'UTF8')
                WHERE run_id = 'r1' AND seq = 6;
            """, database: fixture.database)
        let verdict = TraceVerifier(trustedKeys: [key.publicKey]).verify(try fixture.owner.bundle(runID: "r1"))
        #expect(verdict.status == .broken && verdict.problem?.kind == .payloadChanged, "\(verdict.summary)")
    }

    @Test func aMalformedURLOrAMissingSchemaIsAClearError() throws {
        for (text, words) in [
            ("postgres://host/db", "no user"), ("postgres://u@h:99999/db", "port"), ("postgres://u@h/", "no database"),
            ("postgres://u@h/db?sslmode=maybe", "sslmode"), ("postgres://u@h/db?colour=red", "unknown parameter"),
            ("mysql://u@h/db", "unknown database scheme"),
        ] {
            do {
                _ = try TraceLocation(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.contains(words), "\(text): \(error)")
            }
        }
        #expect(try PostgresURL("postgres://u:secret@h/db").description == "postgres://u@h:5432/db")
        let server = try PostgresTestServer.start()
        let empty = try server.createDatabase("empty")
        do {
            _ = try TraceLocation(server.url(database: empty)).open()
            Issue.record("a database without the schema was opened")
        } catch {
            #expect(error.code == .corrupt && error.description.contains("airlock db init"), "\(error)")
        }
    }
}
