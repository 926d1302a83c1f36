import Foundation
import Trace

/// The site database's schema and roles, as `airlock db init` creates them and `airlock doctor`
/// checks them.
///
/// Everything lives in schema `airlock`, owned by whoever runs `db init` (the site's database
/// owner, whose credential stays with the administrator). Two login roles:
/// - the workers' role (default `airlock_worker`): SELECT and INSERT on the trace tables and
///   nothing else: no UPDATE, DELETE or TRUNCATE (revoked by grant, and refused again by
///   triggers for the owner's own mistakes); it cannot create tables in the schema;
/// - the auditor's role (default `airlock_auditor`): SELECT only, for `airlock trace verify`;
/// - the approvers' role (default `airlock_approver`): reads the approval requests and writes
///   their answers (`airlock approvals approve|deny` on any host).
///
/// The approval tables are append-only too. The workers' role INSERTs requests and may INSERT an
/// answer only of state `expired` (its own run timed out or was cancelled): a row-level security
/// policy on `approval_answers`, so that a worker can never grant or deny. The approvers' policy
/// refuses a grant by the run's principal of a request that separates duties; both write
/// `answered_by = current_user`, the database login that answered.
public enum PostgresSchema {
    /// The append-only trace tables (the audit trail).
    public static let traceTables = ["trace_meta", "runs", "run_finishes", "events", "blobs", "checkpoints", "ledger"]

    /// The run queue's tables: state that changes (claimed, leased, finished), so the workers may
    /// UPDATE `queue`; `queue_events`, its history, is append-only like the trace.
    public static let queueTables = ["queue", "queue_events"]

    /// The approval tables: requests runs wait on, and their answers (one row per request).
    public static let approvalTables = ["approval_requests", "approval_answers"]

    /// The roles `db init` creates.
    public struct Roles: Sendable, Hashable {
        /// The workers' role: INSERT and SELECT on the trace.
        public var worker: String
        /// The auditor's role: SELECT only.
        public var auditor: String
        /// The approvers' role: reads requests, writes answers.
        public var approver: String

        /// Creates role names.
        public init(
            worker: String = "airlock_worker", auditor: String = "airlock_auditor",
            approver: String = "airlock_approver"
        ) {
            self.worker = worker
            self.auditor = auditor
            self.approver = approver
        }

        /// Every role, workers' first.
        public var all: [String] { [worker, auditor, approver] }
    }

    /// The statements that create the tables (idempotent: `IF NOT EXISTS`, `OR REPLACE`).
    static var tableStatements: [String] {
        let version = TraceStore.databaseSchemaVersion
        var statements = [
            "CREATE SCHEMA IF NOT EXISTS airlock",
            "CREATE TABLE IF NOT EXISTS airlock.trace_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO airlock.trace_meta(key, value) VALUES ('schema', '\(version)') ON CONFLICT (key) DO NOTHING",
            """
            CREATE TABLE IF NOT EXISTS airlock.runs(
                run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, principal TEXT NOT NULL, started_ns BIGINT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS airlock.run_finishes(
                run_id TEXT PRIMARY KEY REFERENCES airlock.runs(run_id), status TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS airlock.events(
                run_id TEXT NOT NULL REFERENCES airlock.runs(run_id), seq BIGINT NOT NULL, type TEXT NOT NULL,
                time_ns BIGINT NOT NULL, body BYTEA NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL,
                PRIMARY KEY (run_id, seq))
            """,
            "CREATE TABLE IF NOT EXISTS airlock.blobs(sha256 TEXT PRIMARY KEY, bytes BYTEA NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS airlock.checkpoints(
                run_id TEXT NOT NULL REFERENCES airlock.runs(run_id), seq BIGINT NOT NULL, head BYTEA NOT NULL,
                key_id TEXT NOT NULL, signature BYTEA NOT NULL, final BOOLEAN NOT NULL, PRIMARY KEY (run_id, seq))
            """,
            """
            CREATE TABLE IF NOT EXISTS airlock.ledger(
                seq BIGINT PRIMARY KEY, body BYTEA NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL,
                key_id TEXT NOT NULL, signature BYTEA NOT NULL)
            """,
            """
            CREATE OR REPLACE FUNCTION airlock.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'airlock.% is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege'; END $$
            """,
        ]
        statements += [
            """
            CREATE TABLE IF NOT EXISTS airlock.queue(
                run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, workflow_sha256 TEXT NOT NULL,
                parameters TEXT NOT NULL, model TEXT, principal TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'finished', 'abandoned', 'cancelled')),
                attempt BIGINT NOT NULL DEFAULT 0, worker TEXT, lease_until TIMESTAMPTZ,
                submitted_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
                updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
                status TEXT, reason TEXT, cancel_requested BOOLEAN NOT NULL DEFAULT false)
            """,
            "CREATE INDEX IF NOT EXISTS queue_claim ON airlock.queue(submitted_at, run_id) WHERE state = 'queued'",
            "CREATE INDEX IF NOT EXISTS queue_leases ON airlock.queue(lease_until) WHERE state = 'running'",
            """
            CREATE TABLE IF NOT EXISTS airlock.queue_events(
                id BIGSERIAL PRIMARY KEY, run_id TEXT NOT NULL, attempt BIGINT NOT NULL, worker TEXT,
                kind TEXT NOT NULL, detail TEXT, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
            """,
        ]
        statements += [
            """
            CREATE TABLE IF NOT EXISTS airlock.approval_requests(
                id TEXT PRIMARY KEY, run_id TEXT NOT NULL, call_id TEXT NOT NULL, workflow TEXT NOT NULL,
                principal TEXT NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL, arguments_sha256 TEXT NOT NULL,
                rules TEXT NOT NULL, reasons TEXT NOT NULL, tags TEXT NOT NULL,
                separate_from_principal BOOLEAN NOT NULL, created_at DOUBLE PRECISION NOT NULL,
                deadline DOUBLE PRECISION NOT NULL, waiter_pid BIGINT NOT NULL, waiter_start TEXT, waiter_host TEXT,
                requested_by TEXT NOT NULL DEFAULT current_user, UNIQUE (id, arguments_sha256))
            """,
            "CREATE INDEX IF NOT EXISTS approval_requests_by_time ON airlock.approval_requests(created_at)",
            """
            CREATE TABLE IF NOT EXISTS airlock.approval_answers(
                request_id TEXT PRIMARY KEY, arguments_sha256 TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('granted', 'denied', 'expired')),
                approver TEXT NOT NULL, reason TEXT NOT NULL, scope TEXT, source TEXT,
                answered_at DOUBLE PRECISION NOT NULL, answered_by TEXT NOT NULL DEFAULT current_user,
                FOREIGN KEY (request_id, arguments_sha256)
                    REFERENCES airlock.approval_requests(id, arguments_sha256))
            """,
            "ALTER TABLE airlock.approval_answers ENABLE ROW LEVEL SECURITY",
        ]
        for table in traceTables + ["queue_events"] + approvalTables {
            statements.append(
                "CREATE OR REPLACE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON airlock.\(table) FOR EACH ROW EXECUTE FUNCTION airlock.append_only()"
            )
            statements.append(
                "CREATE OR REPLACE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON airlock.\(table) FOR EACH STATEMENT EXECUTE FUNCTION airlock.append_only()"
            )
        }
        return statements
    }

    /// The statements that create the roles and set their grants.
    static func roleStatements(_ roles: Roles, database: String, passwords: [String: String]) -> [String] {
        var statements: [String] = []
        for role in roles.all {
            statements.append(
                """
                DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE \(role) LOGIN; END IF;
                END $$
                """)
            statements.append("ALTER ROLE \(role) NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS LOGIN")
            if let password = passwords[role] {
                statements.append("ALTER ROLE \(role) PASSWORD '\(password.replacingOccurrences(of: "'", with: "''"))'")
            }
            statements.append("GRANT CONNECT ON DATABASE \"\(database)\" TO \(role)")
            statements.append("REVOKE ALL ON SCHEMA airlock FROM \(role)")
            statements.append("GRANT USAGE ON SCHEMA airlock TO \(role)")
        }
        statements.append("REVOKE ALL ON SCHEMA airlock FROM PUBLIC")
        let tables = traceTables.map { "airlock.\($0)" }.joined(separator: ", ")
        statements.append("REVOKE ALL ON \(tables) FROM PUBLIC, \(roles.worker), \(roles.auditor)")
        statements.append("GRANT SELECT, INSERT ON \(tables) TO \(roles.worker)")
        statements.append("GRANT SELECT ON \(tables) TO \(roles.auditor)")
        statements.append(
            "REVOKE ALL ON airlock.queue, airlock.queue_events FROM PUBLIC, \(roles.worker), \(roles.auditor)")
        statements.append("GRANT SELECT, INSERT, UPDATE ON airlock.queue TO \(roles.worker)")
        statements.append("GRANT SELECT, INSERT ON airlock.queue_events TO \(roles.worker)")
        statements.append("GRANT USAGE ON SEQUENCE airlock.queue_events_id_seq TO \(roles.worker)")
        statements.append("GRANT SELECT ON airlock.queue, airlock.queue_events TO \(roles.auditor)")
        statements.append(
            "REVOKE ALL ON airlock.queue, airlock.queue_events, \(tables) FROM \(roles.approver)")
        let approvals = "airlock.approval_requests, airlock.approval_answers"
        statements.append("REVOKE ALL ON \(approvals) FROM PUBLIC, \(roles.all.joined(separator: ", "))")
        statements.append("GRANT SELECT, INSERT ON \(approvals) TO \(roles.worker)")
        statements.append("GRANT SELECT ON \(approvals) TO \(roles.auditor), \(roles.approver)")
        statements.append("GRANT INSERT ON airlock.approval_answers TO \(roles.approver)")
        // Row-level security on the answers: everyone who may read them reads every row; what
        // each role may insert is its own policy (the owner, who bypasses them, is the DBA).
        // Every policy on the table is dropped first, a loosening one added by hand included.
        statements.append(
            """
            DO $$ DECLARE p record; BEGIN
            FOR p IN SELECT policyname FROM pg_policies WHERE schemaname = 'airlock' AND tablename = 'approval_answers'
            LOOP EXECUTE format('DROP POLICY %I ON airlock.approval_answers', p.policyname); END LOOP;
            END $$
            """)
        statements.append("CREATE POLICY airlock_read_answers ON airlock.approval_answers FOR SELECT USING (true)")
        statements.append(
            """
            CREATE POLICY airlock_workers_expire ON airlock.approval_answers FOR INSERT TO \(roles.worker)
                WITH CHECK (state = 'expired' AND answered_by = current_user)
            """)
        statements.append(
            """
            CREATE POLICY airlock_approvers_answer ON airlock.approval_answers FOR INSERT TO \(roles.approver)
                WITH CHECK (answered_by = current_user AND (state <> 'granted' OR NOT EXISTS (
                    SELECT 1 FROM airlock.approval_requests r
                    WHERE r.id = request_id AND r.separate_from_principal AND r.principal = approver)))
            """)
        return statements
    }

    /// Whether `name` is a plain role name (`[a-z_][a-z0-9_]*`, at most 63): safe to write into SQL.
    public static func isRoleName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63, first == 0x5F || (first >= 0x61 && first <= 0x7A)
        else { return false }
        return name.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Creates (or brings up to date) the schema, the roles and their grants, in one transaction.
    /// - Parameters:
    ///   - session: a connection as the database's owner.
    ///   - roles: the role names.
    ///   - passwords: role → password to set (roles not named keep theirs).
    /// - Throws: ``TraceError`` naming the statement that failed; nothing is left half-created.
    public static func initialize(
        _ session: PostgresSession, roles: Roles = Roles(), passwords: [String: String] = [:]
    ) throws(TraceError) {
        for role in roles.all where !isRoleName(role) {
            throw TraceError(.storage, "role name '\(role)': must be [a-z_][a-z0-9_]*, at most 63 characters")
        }
        guard Set(roles.all).count == roles.all.count else {
            throw TraceError(
                .storage, "the worker, auditor and approver roles must differ (\(roles.all.joined(separator: ", ")))")
        }
        for (role, password) in passwords where password.contains("\u{0}") {
            throw TraceError(.storage, "the password for \(role) holds a NUL byte")
        }
        let statements = tableStatements + roleStatements(roles, database: session.url.database, passwords: passwords)
        // Roles are the cluster's, not the database's: a db init of another database on the same
        // server may change them at the same moment (`tuple concurrently updated`, a duplicate
        // role). The advisory lock serializes db inits of this database; the others are retried.
        var attempt = 0
        while true {
            attempt += 1
            var failure: PostgresFailure?
            do throws(TraceError) {
                try session.transaction(stage: "airlock db init", mapFailure: TraceError.init) {
                    tx throws(TraceError) in
                    do throws(PostgresFailure) {
                        try tx.query("SELECT pg_advisory_xact_lock(6170771)", stage: "lock db init")
                        for (index, sql) in statements.enumerated() {
                            try tx.query(sql, stage: "db init statement \(index + 1): \(sql.prefix(60))…")
                        }
                    } catch {
                        failure = error
                        throw TraceError(error)
                    }
                }
                return
            } catch {
                let retryable = ["XX000", "40001", "40P01", "23505", "42710"].contains(failure?.sqlState ?? "")
                guard attempt < 8, retryable else { throw error }
                usleep(UInt32.random(in: 10_000...60_000))
            }
        }
    }

    /// One finding of a grant check.
    public struct GrantFinding: Sendable, Hashable {
        /// `airlock.events UPDATE`.
        public var subject: String
        /// Whether it is as it must be.
        public var ok: Bool
        /// What was found.
        public var detail: String
    }

    /// Checks, as the session's own role, that it may only read and append the trace: INSERT and
    /// SELECT granted on every trace and approval table, UPDATE, DELETE and TRUNCATE not; not a
    /// superuser, not the tables' owner; and that it cannot answer an approval request (a grant
    /// is tried inside a transaction that is rolled back, and must be refused by the database).
    /// What `airlock doctor` runs against a postgres trace.
    /// - Throws: ``TraceError`` when the privileges cannot be read.
    public static func checkWorkerGrants(_ session: PostgresSession) throws(TraceError) -> [GrantFinding] {
        var findings: [GrantFinding] = []
        let who: [PostgresRecord]
        do throws(PostgresFailure) {
            who = try session.query(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
                stage: "read the current role")
        } catch {
            throw TraceError(error)
        }
        let user = who.first?.text(0) ?? session.url.user
        let superuser = who.first?.bool(1) ?? false
        findings.append(
            GrantFinding(
                subject: "role \(user)", ok: !superuser && !(who.first?.bool(2) ?? false),
                detail: superuser ? "is a superuser: it can erase the trace" : "not a superuser"))
        for table in traceTables + approvalTables {
            let rows: [PostgresRecord]
            do throws(PostgresFailure) {
                rows = try session.query(
                    """
                    SELECT has_table_privilege($1, 'SELECT'), has_table_privilege($1, 'INSERT'),
                        has_table_privilege($1, 'UPDATE'), has_table_privilege($1, 'DELETE'),
                        has_table_privilege($1, 'TRUNCATE'),
                        pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = $1::regclass)) = current_user
                    """, [.text("airlock.\(table)")], stage: "read the privileges on airlock.\(table)")
            } catch {
                throw TraceError(error)
            }
            guard let row = rows.first else { continue }
            let granted = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"].enumerated().filter {
                row.bool($0.offset)
            }
            .map(\.element)
            let owner = row.bool(5)
            let ok = granted == ["SELECT", "INSERT"] && !owner
            findings.append(
                GrantFinding(
                    subject: "airlock.\(table)", ok: ok,
                    detail: owner
                        ? "owned by \(user): the owner can alter or drop it"
                        : "granted \(granted.isEmpty ? "nothing" : granted.joined(separator: ", "))"))
        }
        findings.append(try answerProbe(session, user: user))
        return findings
    }

    /// Tries, as the session's role, to grant an approval request it wrote itself, in a
    /// transaction that is always rolled back: the workers' role must be refused (SQLSTATE 42501,
    /// the row-level policy on `approval_answers`).
    static func answerProbe(_ session: PostgresSession, user: String) throws(TraceError) -> GrantFinding {
        let id = "doctor-probe-" + UUID().uuidString.prefix(8).lowercased()
        var outcome: PostgresFailure?
        var answered = false
        struct RolledBack: Error {}
        do throws(RolledBack) {
            try session.transaction(stage: "try to answer an approval", mapFailure: { _ in RolledBack() }) {
                tx throws(RolledBack) in
                do throws(PostgresFailure) {
                    try tx.query(
                        """
                        INSERT INTO airlock.approval_requests(id, run_id, call_id, workflow, principal, tool,
                            arguments, arguments_sha256, rules, reasons, tags, separate_from_principal, created_at,
                            deadline, waiter_pid)
                        VALUES ($1, $1, 'c1', 'doctor', 'doctor', 'doctor', '{}', 'probe', '[]', '[]', '[]', false, 0,
                            0, 0)
                        """, [.text(id)], stage: "write a probe request")
                    try tx.query(
                        """
                        INSERT INTO airlock.approval_answers(request_id, arguments_sha256, state, approver, reason,
                            answered_at)
                        VALUES ($1, 'probe', 'granted', 'doctor', 'probe', 0)
                        """, [.text(id)], stage: "grant the probe request")
                    answered = true
                } catch {
                    outcome = error
                }
                throw RolledBack()
            }
        } catch {}
        let subject = "airlock.approval_answers grant"
        if answered {
            return GrantFinding(subject: subject, ok: false, detail: "\(user) could grant an approval request")
        }
        guard let outcome else { throw TraceError(.storage, "the approval probe did not run") }
        if outcome.stage == "grant the probe request", outcome.isPermissionDenied {
            return GrantFinding(subject: subject, ok: true, detail: "refused: \(outcome.message)")
        }
        if outcome.isPermissionDenied {
            return GrantFinding(
                subject: subject, ok: false, detail: "\(user) cannot write requests: \(outcome.message)")
        }
        throw TraceError(outcome)
    }
}
