import ArgumentParser
import Foundation
import Trace
import TracePostgres

/// `airlock db …`: the site's shared PostgreSQL database (docs/scale.md).
struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Set up the site's shared PostgreSQL database.",
        subcommands: [DbInitCommand.self])
}

/// `airlock db init --database postgres://OWNER@HOST/DB`: schema, roles and grants.
struct DbInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create the trace schema, the workers', auditor's and approvers' roles and their grants (idempotent).",
        discussion: """
            Run it as the database's owner. The workers' role may only SELECT and INSERT the trace \
            (no UPDATE, DELETE or TRUNCATE: revoked by grant, and refused by triggers); the \
            auditor's role may only SELECT; the approvers' role reads approval requests and answers \
            them (the workers' role may record a request and its expiry, never grant or deny). \
            Passwords, when the site logs in with them, are read from AIRLOCK_DB_WORKER_PASSWORD, \
            AIRLOCK_DB_AUDITOR_PASSWORD and AIRLOCK_DB_APPROVER_PASSWORD (never from the command line).
            Exit codes: 0 done, 64 a bad URL or role name, 74 the database refused (nothing is left half-made).
            """)

    @Option(name: .long, help: "The database, as its owner: postgres://OWNER@HOST[:PORT]/DB.")
    var database: String
    @Option(name: .long, help: "The workers' role.") var workerRole = "airlock_worker"
    @Option(name: .long, help: "The auditor's role.") var auditorRole = "airlock_auditor"
    @Option(name: .long, help: "The approvers' role.") var approverRole = "airlock_approver"

    func validate() throws {
        let flags = [("--worker-role", workerRole), ("--auditor-role", auditorRole), ("--approver-role", approverRole)]
        for (flag, name) in flags where !PostgresSchema.isRoleName(name) {
            throw ValidationError("\(flag) '\(name)': must be [a-z_][a-z0-9_]*, at most 63 characters")
        }
        guard Set(flags.map { $0.1 }).count == flags.count else {
            throw ValidationError("--worker-role, --auditor-role and --approver-role must differ")
        }
    }

    func run() async throws {
        guard case .postgres(let url) = try TraceCLI.location(database) else {
            FileHandle.standardError.write(Data("error: --database must be a postgres:// URL\n".utf8))
            throw ExitCode.usage
        }
        let environment = ProcessInfo.processInfo.environment
        var passwords: [String: String] = [:]
        if let password = environment["AIRLOCK_DB_WORKER_PASSWORD"] { passwords[workerRole] = password }
        if let password = environment["AIRLOCK_DB_AUDITOR_PASSWORD"] { passwords[auditorRole] = password }
        if let password = environment["AIRLOCK_DB_APPROVER_PASSWORD"] { passwords[approverRole] = password }
        let roles = PostgresSchema.Roles(worker: workerRole, auditor: auditorRole, approver: approverRole)
        try CLI.run { () throws(TraceError) in
            let session: PostgresSession
            do throws(PostgresFailure) {
                session = try PostgresSession(url: url)
            } catch {
                throw TraceError(error)
            }
            try PostgresSchema.initialize(session, roles: roles, passwords: passwords)
        }
        TraceCLI.print(
            "initialised \(url): schema airlock (trace schema \(TraceStore.databaseSchemaVersion)); \(workerRole): SELECT, INSERT; \(auditorRole): SELECT; \(approverRole): answers approvals"
        )
    }
}
