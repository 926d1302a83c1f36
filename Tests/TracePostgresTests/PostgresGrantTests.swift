import AirlockTestSupport
import Foundation
import Testing
import Trace
import TracePostgres

@Suite("db init: the workers' role may only read and append the trace; the auditor only read")
struct PostgresGrantTests {
    @Test func theWorkersRoleCannotUpdateDeleteOrTruncateTraceRowsInPlainSQL() throws {
        let fixture = try PostgresTraceFixture("grants")
        let key = try TraceSigningKey.generate()
        let worker = try fixture.store(as: "airlock_worker")
        try PostgresTraceFixture.record(worker, key: key, runID: "r1")
        #expect(
            try fixture.server.psql(
                "SELECT count(*) FROM airlock.events", user: "airlock_worker", database: fixture.database
            )
            .trimmingCharacters(in: .whitespacesAndNewlines) == "10")
        for table in PostgresSchema.traceTables {
            for sql in [
                "UPDATE airlock.\(table) SET \(table == "blobs" ? "sha256" : table == "trace_meta" ? "key" : table == "ledger" ? "key_id" : "run_id") = 'x'",
                "DELETE FROM airlock.\(table)", "TRUNCATE airlock.\(table) CASCADE",
            ] {
                do {
                    try fixture.server.psql(sql, user: "airlock_worker", database: fixture.database)
                    Issue.record("the worker role ran: \(sql)")
                } catch {
                    #expect(error.description.contains("permission denied"), "\(sql): \(error)")
                }
            }
        }
        // Nor make a table of its own in the schema, nor drop one, nor lift a trigger.
        for sql in [
            "CREATE TABLE airlock.shadow(x int)", "DROP TABLE airlock.events CASCADE",
            "ALTER TABLE airlock.events DISABLE TRIGGER events_append_only",
        ] {
            #expect(throws: PostgresTestServerError.self, "\(sql)") {
                try fixture.server.psql(sql, user: "airlock_worker", database: fixture.database)
            }
        }
        // The auditor reads and cannot write.
        #expect(throws: PostgresTestServerError.self) {
            try fixture.server.psql(
                "INSERT INTO airlock.blobs VALUES ('x', '\\x00')", user: "airlock_auditor", database: fixture.database)
        }
        let auditor = try fixture.store(as: "airlock_auditor")
        let verdict = TraceVerifier(trustedKeys: [key.publicKey]).verify(try auditor.bundle(runID: "r1"))
        #expect(verdict.status == .intact)
        #expect(try auditor.verifyLedger(trustedKeys: [key.publicKey]).intact)
        // And the rows are all still there.
        #expect(try fixture.owner.events(runID: "r1").count == 10)
    }

    @Test func theTriggersRefuseTheOwnersEditsToo() throws {
        let fixture = try PostgresTraceFixture("owner")
        try PostgresTraceFixture.record(fixture.owner, key: try TraceSigningKey.generate(), runID: "r1")
        for sql in [
            "DELETE FROM airlock.events", "UPDATE airlock.runs SET principal = 'eve'", "TRUNCATE airlock.blobs CASCADE",
        ] {
            do {
                try fixture.server.psql(sql, database: fixture.database)
                Issue.record("the owner ran: \(sql)")
            } catch {
                #expect(error.description.contains("append-only"), "\(sql): \(error)")
            }
        }
    }

    @Test func theGrantCheckPassesForTheWorkerAndFailsForTheOwner() throws {
        let fixture = try PostgresTraceFixture("doctor")
        let worker = try PostgresSession(
            url: try PostgresURL(fixture.server.url(user: "airlock_worker", database: fixture.database)))
        let findings = try PostgresSchema.checkWorkerGrants(worker)
        #expect(findings.count == PostgresSchema.traceTables.count + PostgresSchema.approvalTables.count + 2)
        #expect(findings.allSatisfy { $0.ok }, "\(findings)")
        let owner = try PostgresSession(url: try PostgresURL(fixture.server.url(database: fixture.database)))
        let bad = try PostgresSchema.checkWorkerGrants(owner).filter { !$0.ok }
        #expect(bad.contains { $0.subject == "role postgres" && $0.detail.contains("superuser") })
        #expect(bad.contains { $0.subject == "airlock.events" })
        // A grant an administrator added by hand is found.
        try fixture.server.psql("GRANT UPDATE ON airlock.events TO airlock_worker", database: fixture.database)
        let loosened = try PostgresSchema.checkWorkerGrants(worker).filter { !$0.ok }
        #expect(loosened.map(\.subject) == ["airlock.events"] && loosened[0].detail.contains("UPDATE"))
        // db init again puts it right (it is idempotent).
        try PostgresSchema.initialize(owner)
        #expect(try PostgresSchema.checkWorkerGrants(worker).allSatisfy { $0.ok })
    }

    @Test func dbInitRefusesUnsafeRoleNames() throws {
        let fixture = try PostgresTraceFixture("names")
        let owner = try PostgresSession(url: try PostgresURL(fixture.server.url(database: fixture.database)))
        for name in ["Robert'); DROP TABLE x;--", "", "a-b"] {
            #expect(throws: TraceError.self) {
                try PostgresSchema.initialize(owner, roles: .init(worker: name, auditor: "airlock_auditor"))
            }
        }
    }
}
