import AirlockTestSupport
import Foundation
import Testing
import Trace
import TracePostgres

@testable import Doctor

@Suite("Doctor: trace-grants and trace-verifies on a postgres trace")
struct DoctorTraceGrantsTests {
    @Test func theWorkersRolePassesTheOwnerFailsAndSQLiteSkips() throws {
        let fixture = try DoctorFixture()
        #expect(fixture.doctor.traceGrants().status == .skip)
        let server = try PostgresTestServer.start()
        let database = try server.createDatabase("doctor")
        try PostgresSchema.initialize(try PostgresSession(url: try PostgresURL(server.url(database: database))))
        let site = fixture.home.appendingPathComponent("site.yaml")

        try fixture.write("trace: \(server.url(user: "airlock_worker", database: database))\n", to: site)
        let passed = fixture.doctor.traceGrants()
        #expect(passed.status == .pass, "\(passed)")
        #expect(
            passed.evidence.contains { $0.contains("ok airlock.events: granted SELECT, INSERT") }, "\(passed.evidence)")
        // The same trace verifies from the doctor, read from PostgreSQL (nothing recorded: no run to fail).
        #expect(fixture.doctor.traceVerifies().status != .fail, "\(fixture.doctor.traceVerifies())")

        try fixture.write("trace: \(server.url(database: database))\n", to: site)
        let failed = fixture.doctor.traceGrants()
        #expect(failed.status == .fail && failed.summary.contains("postgres"), "\(failed)")
        #expect(failed.evidence.contains { $0.contains("superuser") })

        try fixture.write("trace: postgres://airlock_worker@localhost/x?host=/nonexistent-socket&port=5432\n", to: site)
        #expect(fixture.doctor.traceGrants().status == .fail)
    }
}
