import AirlockCore
import AirlockTestSupport
import Foundation
import Testing

/// `airlock run`'s live progress as the analyst (or a program) follows it: the model's reply
/// streamed token by token with elapsed time and tokens, a failed tool's stderr, and the same
/// events as one JSON object per line with `--progress json`.
@Suite("live progress (CLI)", .serialized)
struct ProgressCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-progress-home")
    }

    func workflow(_ name: String) -> String {
        SampleSite.root.appendingPathComponent("manifests/workflows/\(name).yaml").path
    }

    /// The JSON progress events on stderr (lines that are not JSON, such as `model:`, skipped).
    static func events(_ stderr: String) -> [JSONValue] {
        stderr.split(separator: "\n").compactMap { try? JSONParser().parse(Array($0.utf8)) }
    }

    @Test func aStreamedReplyIsFollowedTokenByTokenAndRecordedWhole() throws {
        let server = try ChatTestServer(replies: [
            .streamed(
                tokens: [], calls: [(id: "c1", name: "logs.search", fragments: [#"{"pattern":"#, #""ERROR"}"#])],
                pauseSeconds: 0.02),
            .streamed(tokens: ["Two", " ledger", " timeouts", "."], pauseSeconds: 0.02),
        ])
        defer { server.stop() }
        let result = try CLI.run(
            ["run", workflow("log-triage"), "--model", "unix:" + server.path, "--progress", "json", "--json"],
            environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let outcome = try JSONParser().parse(result.stdout)
        #expect(outcome["answer"] == "Two ledger timeouts.")
        let events = Self.events(result.stderr)
        let generating = events.filter { $0["event"] == "generating" && $0["step"] == 2 }
        #expect(!generating.isEmpty, "\(result.stderr)")
        let counts = generating.compactMap { $0["tokens"]?.integerValue }
        #expect(counts == counts.sorted() && counts.last == 4, "\(counts)")
        let answered = events.filter { $0["event"] == "model_answered" }
        // As the stream's last event counted them (`usage.completion_tokens`).
        #expect(answered.map { $0["tokens"] } == [0, 4], "\(answered)")
        #expect(events.contains { $0["event"] == "executed" && $0["tool"] == "logs.search" && $0["exit_code"] == 0 })
        // The request asked for a stream; the trace holds the assembled reply, and it replays.
        #expect(server.requests.first?["stream"] == true)
        let runID = try #require(outcome["run_id"]?.stringValue)
        let show = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        let responses = (try JSONParser().parse(show.stdout).arrayValue ?? []).filter {
            $0["type"] == "model.response"
        }
        #expect(responses.last?["payload"]?["content"] == "Two ledger timeouts.")
        let call = responses.first?["payload"]?["tool_calls"]?.arrayValue?.first
        #expect(call?["function"]?["arguments"] == #"{"pattern":"ERROR"}"#, "\(responses)")
        let replay = try CLI.run(["replay", runID], environment: env)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
    }

    @Test func aFailedToolShowsTheEndOfItsStderr() throws {
        let script = home.appendingPathComponent("failing.yaml")
        try Data(
            """
            responses:
              - tool_calls: [{name: sql.select, arguments: {query: SELECT * FROM nope, max_rows: 10}}]
              - content: The table does not exist.
            """.utf8
        ).write(to: script)
        let arguments = [
            "run", workflow("dataset-report"), "--param", "question=q", "--model", "script:" + script.path,
        ]
        let text = try CLI.run(arguments, environment: env)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("ran sql.select: exit 2"), "\(text.stderr)")
        #expect(text.stderr.contains("    stderr: sql.select: no such table: nope"), "\(text.stderr)")
        let json = try CLI.run(arguments + ["--progress", "json"], environment: env)
        let executed = try #require(Self.events(json.stderr).first { $0["event"] == "executed" })
        #expect(executed["exit_code"] == 2)
        #expect(executed["stderr_tail"] == "sql.select: no such table: nope", "\(executed)")
        let bad = try CLI.run(arguments + ["--progress", "fancy"], environment: env)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--progress fancy: expected text or json"))
    }
}
