import AirlockTestSupport
import Approvals
import Foundation
import Testing
import TracePostgres

/// The approval store on the site's PostgreSQL database: the same rules as the home's SQLite file
/// (the first answer wins, answers bound to the argument digest, separation of duties, expiry),
/// and the database itself refusing the workers' role any answer but an expiry.
@Suite("Approvals on PostgreSQL: workers ask and read, approvers answer")
struct PostgresApprovalTests {
    let fixture: PostgresTraceFixture

    init() throws { fixture = try PostgresTraceFixture("approvals") }

    func store(as role: String) throws -> ApprovalStore {
        ApprovalStore(
            backend: PostgresApprovalBackend(
                url: try PostgresURL(fixture.server.url(user: role, database: fixture.database))))
    }

    /// A pending request for run `run`, principal ana, waiting `seconds` from now, held by a
    /// waiter on another host (its pid means nothing here: only the deadline closes it).
    static func request(_ id: String, run: String = "r1", separate: Bool = true, seconds: Double = 900)
        -> ApprovalRecord
    {
        let now = Date().timeIntervalSince1970
        return ApprovalRecord(
            id: id, runID: run, callID: "c1", workflow: "triage", principal: "ana", tool: "logs.search",
            arguments: #"{"pattern":"ERROR"}"#, argumentsSHA256: String(repeating: "a", count: 64),
            rules: ["ask.search"], reasons: ["searching needs a second pair of eyes"], tags: ["maestro:L3"],
            separateFromPrincipal: separate, createdAt: now, deadline: now + seconds,
            waiter: ApprovalWaiter(pid: 1, startTicks: "1", host: "another-host/pid:[1]"))
    }

    static func answer(_ approver: String, _ reason: String = "looked at it") -> ApprovalRecord.Answer {
        ApprovalRecord.Answer(
            approver: approver, reason: reason, scope: .once, source: .store, at: Date().timeIntervalSince1970)
    }

    @Test func aWorkersRequestIsAnsweredByAnApproverAndTheFirstAnswerWins() throws {
        let worker = try store(as: "airlock_worker")
        let approver = try store(as: "airlock_approver")
        let record = Self.request("req000000001")
        try worker.insert(record)
        #expect(throws: ApprovalsError.self) { try worker.insert(record) }
        // The approver sees it, exactly as written, and it stays pending under a foreign waiter.
        let listed = try approver.requests(includeClosed: false)
        #expect(listed == [record])
        // Bound to the digest: an answer given for other arguments changes nothing.
        let other = String(repeating: "b", count: 64)
        #expect {
            try approver.answer(record.id, state: .granted, Self.answer("bo"), argumentsSHA256: other)
        } throws: { ($0 as? ApprovalsError)?.code == .argumentsChanged }
        // Separation of duties: the principal may not grant it (the store says so first).
        #expect {
            try approver.answer(record.id, state: .granted, Self.answer("ana"))
        } throws: { ($0 as? ApprovalsError)?.code == .selfApproval }
        guard case .answered(let granted) = try approver.answer(record.id, state: .granted, Self.answer("bo")) else {
            Issue.record("the first answer did not land")
            return
        }
        #expect(granted.state == .granted && granted.answer?.approver == "bo")
        // The worker reads the answer; a second answer finds the request closed.
        #expect(try worker.request(record.id).state == .granted)
        guard case .closed(let closed) = try approver.answer(record.id, state: .denied, Self.answer("cy", "no")) else {
            Issue.record("a second answer landed")
            return
        }
        #expect(closed.answer?.approver == "bo")
        #expect(try approver.requests(includeClosed: false).isEmpty)
        #expect(try approver.requests(includeClosed: true).map(\.state) == [.granted])
        // Who answered is the database login, whatever name the client gave.
        #expect(
            try fixture.server.psql(
                "SELECT answered_by FROM airlock.approval_answers WHERE request_id = '\(record.id)'",
                database: fixture.database
            ).trimmingCharacters(in: .whitespacesAndNewlines) == "airlock_approver")
    }

    @Test func theWorkersRoleCannotGrantOrDenyButMayRecordAnExpiry() throws {
        let worker = try store(as: "airlock_worker")
        try worker.insert(Self.request("req000000002"))
        for state in [ApprovalRecord.State.granted, .denied] {
            #expect {
                try worker.answer("req000000002", state: state, Self.answer("mallory"))
            } throws: { ($0 as? ApprovalsError)?.code == .notPermitted }
        }
        // In plain SQL, too: the row-level policy refuses it, and UPDATE / DELETE are not granted.
        for sql in [
            "INSERT INTO airlock.approval_answers(request_id, arguments_sha256, state, approver, reason, answered_at) VALUES ('req000000002', '\(String(repeating: "a", count: 64))', 'granted', 'mallory', 'x', 0)",
            "INSERT INTO airlock.approval_answers(request_id, arguments_sha256, state, approver, reason, answered_at, answered_by) VALUES ('req000000002', '\(String(repeating: "a", count: 64))', 'expired', 'timeout', 'x', 0, 'airlock_approver')",
            "UPDATE airlock.approval_requests SET arguments_sha256 = 'x'", "DELETE FROM airlock.approval_requests",
            "DELETE FROM airlock.approval_answers",
        ] {
            do {
                try fixture.server.psql(sql, user: "airlock_worker", database: fixture.database)
                Issue.record("the worker role ran: \(sql)")
            } catch {
                #expect(
                    error.description.contains("row-level security") || error.description.contains("permission denied"),
                    "\(sql): \(error)")
            }
        }
        #expect(try worker.request("req000000002").state == .pending)
        // Its own run timing out is an expiry it may write; the approver then finds it closed.
        let expired = ApprovalRecord.Answer(
            approver: "timeout", reason: ApprovalStore.timeoutReason(900), scope: nil, source: .timeout,
            at: Date().timeIntervalSince1970)
        #expect(
            try worker.answer("req000000002", state: .expired, expired) == .answered(try worker.request("req000000002"))
        )
        let approver = try store(as: "airlock_approver")
        guard case .closed(let record) = try approver.answer("req000000002", state: .granted, Self.answer("bo")) else {
            Issue.record("an expired request was granted")
            return
        }
        #expect(record.state == .expired)
    }

    @Test func theDatabaseRefusesASelfApprovalAndTheApproverCannotWriteRequestsOrTheTrace() throws {
        try store(as: "airlock_worker").insert(Self.request("req000000003"))
        let digest = String(repeating: "a", count: 64)
        #expect(throws: PostgresTestServerError.self) {
            try fixture.server.psql(
                "INSERT INTO airlock.approval_answers(request_id, arguments_sha256, state, approver, reason, answered_at) VALUES ('req000000003', '\(digest)', 'granted', 'ana', 'mine', 0)",
                user: "airlock_approver", database: fixture.database)
        }
        for sql in [
            "INSERT INTO airlock.approval_requests(id, run_id, call_id, workflow, principal, tool, arguments, arguments_sha256, rules, reasons, tags, separate_from_principal, created_at, deadline, waiter_pid) VALUES ('x', 'r', 'c', 'w', 'p', 't', '{}', 'd', '[]', '[]', '[]', false, 0, 0, 0)",
            "INSERT INTO airlock.blobs VALUES ('x', '\\x00')", "SELECT count(*) FROM airlock.queue",
        ] {
            #expect(throws: PostgresTestServerError.self, "\(sql)") {
                try fixture.server.psql(sql, user: "airlock_approver", database: fixture.database)
            }
        }
        // A request whose deadline passed is closed by whoever looks next.
        try store(as: "airlock_worker").insert(Self.request("req000000004", seconds: -1))
        #expect(try store(as: "airlock_approver").request("req000000004").answer?.approver == "timeout")
        // The auditor, who may write nothing, still reads one; the next reader that may closes it.
        try store(as: "airlock_worker").insert(Self.request("req000000005", seconds: -1))
        #expect(try store(as: "airlock_auditor").request("req000000005").state == .pending)
        #expect(try store(as: "airlock_auditor").requests(includeClosed: false).map(\.id).contains("req000000005"))
        #expect(try store(as: "airlock_worker").request("req000000005").state == .expired)
    }

    @Test func doctorsProbeFindsAWorkerRoleThatCouldAnswer() throws {
        let worker = try PostgresSession(
            url: try PostgresURL(fixture.server.url(user: "airlock_worker", database: fixture.database)))
        let probe = { () throws -> PostgresSchema.GrantFinding? in
            try PostgresSchema.checkWorkerGrants(worker).first { $0.subject == "airlock.approval_answers grant" }
        }
        #expect(try probe()?.ok == true)
        // An administrator who loosens the policy by hand is found out; nothing was left behind.
        try fixture.server.psql(
            "CREATE POLICY loose ON airlock.approval_answers FOR INSERT TO airlock_worker WITH CHECK (true)",
            database: fixture.database)
        let loose = try probe()
        #expect(loose?.ok == false && loose?.detail.contains("could grant") == true, "\(String(describing: loose))")
        #expect(
            try fixture.server.psql("SELECT count(*) FROM airlock.approval_requests", database: fixture.database)
                .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // db init resets the answers' policies to its own, the loose one dropped.
        try PostgresSchema.initialize(
            try PostgresSession(url: try PostgresURL(fixture.server.url(database: fixture.database))))
        #expect(try probe()?.ok == true)
    }
}
