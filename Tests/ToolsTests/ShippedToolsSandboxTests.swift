import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

/// Each shipped tool, registered from `manifests/tools/` and run through the registry and the real
/// sandbox over the sample data in `tools/sample-data/`.
@Suite(
    "Shipped tools in the sandbox", .serialized,
    .enabled(
        if: SandboxProbe.current.allLayersAvailable, "this host lacks a confinement layer (see `airlock sandbox probe`)"
    ))
struct ShippedToolsSandboxTests {
    let registry: ToolRegistry
    let context: ToolRunContext
    let workspace: URL

    init() throws {
        let home = try Fixtures.directory("airlock-home")
        registry = ToolRegistry(home: home)
        let manifests = Fixtures.repository.appendingPathComponent("manifests/tools")
        let files = try FileManager.default.contentsOfDirectory(atPath: manifests.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        _ = try registry.add(files.map { try ManifestFile.load(manifests.appendingPathComponent($0)) })

        let warehouse = try Fixtures.directory("warehouse")
        let build = Process()
        build.executableURL = Fixtures.repository.appendingPathComponent("tools/sample-data/build-sample-db")
        build.arguments = [warehouse.path]
        build.standardOutput = FileHandle.nullDevice
        try build.run()
        build.waitUntilExit()
        try #require(build.terminationStatus == 0)

        workspace = try Fixtures.directory("workspace")
        let sample = Fixtures.repository.appendingPathComponent("tools/sample-data")
        context = ToolRunContext(
            workspace: workspace,
            datasets: [
                "logs": sample.appendingPathComponent("logs"), "tables": sample.appendingPathComponent("tables"),
                "warehouse": warehouse,
            ])
    }

    func run(_ name: String, _ arguments: JSONValue) async throws -> ToolRunResult {
        try await ToolRunner(registry: registry).run(registry.resolve(name), arguments: arguments, context: context)
    }

    @Test func logsSearchFindsMatchesWithFileAndLineAndCaps() async throws {
        let result = try await run("logs.search", ["pattern": "timeout|LOCKED", "ignore_case": true, "max_matches": 2])
        #expect(result.exitCode == 0, "\(result.record.stderr.text)")
        let json = try #require(result.json)
        #expect(json["truncated"] == true, "\(result.output) \(result.record.argv)")
        #expect(json["matches"]?.arrayValue?.count == 2)
        #expect(json["matches"]?.arrayValue?.first?["file"] == "app.log")
        #expect(json["matches"]?.arrayValue?.first?["line"] == 4)
        // A pattern that looks like an option is still the pattern: it comes after "--".
        let dash = try await run("logs.search", ["pattern": "-v"])
        #expect(dash.exitCode == 0, "\(dash.record.stderr.text)")
        #expect(dash.record.argv.suffix(2) == ["--", "-v"])
    }

    @Test func csvSummarizeReportsRowsAndColumnTypes() async throws {
        let result = try await run("csv.summarize", ["file": "incidents.csv"])
        #expect(result.exitCode == 0, "\(result.record.stderr.text)")
        let json = try #require(result.json)
        #expect(json["rows"] == 8)
        let columns = try #require(json["columns"]?.arrayValue)
        let minutes = try #require(columns.first { $0["name"] == "minutes_to_resolve" })
        #expect(minutes["type"] == "number" && minutes["empty"] == 1 && minutes["max"]?.doubleValue == 240)
        #expect(columns.first { $0["name"] == "severity" }?["type"] == "integer")
    }

    @Test func sqlSelectReadsWithARowCapAndRefusesWrites() async throws {
        let result = try await run(
            "sql.select", ["query": "SELECT sku, quantity FROM items ORDER BY sku", "max_rows": 3])
        #expect(result.exitCode == 0, "\(result.record.stderr.text)")
        let json = try #require(result.json)
        #expect(json["columns"] == ["sku", "quantity"])
        #expect(json["rows"]?.arrayValue?.count == 3 && json["truncated"] == true)
        let write = try await run("sql.select", ["query": "WITH x AS (SELECT 1) DELETE FROM items"])
        #expect(write.exitCode == 2)
        #expect(write.record.stderr.text.contains("sql.select"))
    }

    @Test func sqlSelectAllowsOnlyListedFunctions() async throws {
        let ordinary = try await run(
            "sql.select",
            [
                "query":
                    "SELECT upper(name), count(*), row_number() OVER (ORDER BY id) FROM sites WHERE name LIKE '%' GROUP BY id"
            ])
        #expect(ordinary.exitCode == 0, "\(ordinary.record.stderr.text)")
        // fts3_tokenizer hands out (and takes) raw pointers: a memory-corruption primitive.
        for query in [
            "SELECT fts3_tokenizer('simple')", "SELECT FTS3_Tokenizer('porter')", "SELECT randomblob(9)",
            "SELECT load_extension('/tmp/x')",
        ] {
            let refused = try await run("sql.select", ["query": .string(query)])
            #expect(refused.exitCode == 2, "\(query): \(refused.output)")
            #expect(refused.record.stderr.text.contains("not authorized to use function"), "\(query)")
        }
    }

    @Test func workspaceNoteAppendsAndWorkspaceReadReadsASlice() async throws {
        let note = try await run("workspace.note", ["text": "ledger timeouts at 08:05", "title": "Finding"])
        #expect(note.exitCode == 0, "\(note.record.stderr.text)")
        #expect(note.json?["file"] == "notes.md")
        let written = try String(contentsOf: workspace.appendingPathComponent("notes.md"), encoding: .utf8)
        #expect(written == "## Finding\n\nledger timeouts at 08:05\n\n")
        let slice = try await run("workspace.read", ["path": "notes.md", "offset": 3, "length": 7])
        #expect(slice.exitCode == 0, "\(slice.record.stderr.text)")
        #expect(slice.json?["text"] == "Finding")
        #expect(slice.json?["eof"] == false)
        let escape = try await run("workspace.read", ["path": "../../../etc/passwd"])
        #expect(escape.exitCode == 2)
        #expect(escape.json == nil)
    }

    @Test func theToolSeesOnlyItsMounts() async throws {
        // workspace.read mounts only the workspace (read-only): the logs dataset is not there.
        let result = try await run("workspace.read", ["path": "../data/logs/app.log"])
        #expect(result.exitCode == 2)
        let mounted = result.record.confinement.mounts.map(\.target)
        #expect(mounted.contains("/workspace") && mounted.contains("/opt/airlock/tool/workspace.read"))
        #expect(!mounted.contains("/data/logs"))
    }
}
