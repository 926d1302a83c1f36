import AirlockCore
import Foundation
import Testing

/// The idempotency key handed to tools: a sandboxed tool sees `AIRLOCK_IDEMPOTENCY_KEY` as
/// `RUN_ID:CALL_ID`, one per call, and the trace's `tool.executed` records the same key; a replay
/// of the run hands back the recorded one and is identical.
@Suite("tools get an idempotency key, recorded in the trace (CLI)", .serialized)
final class IdempotencyKeyCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws { home = try SampleSite.make("airlock-idempotency-home") }
    deinit { try? FileManager.default.removeItem(at: home) }

    func file(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let url = home.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    @Test func eachCallSeesItsKeyAndTheTraceRecordsTheSameOne() throws {
        let script = "#!/bin/sh\nprintf '%s' \"$AIRLOCK_IDEMPOTENCY_KEY\"\n"
        _ = try file("key.sh", script, mode: 0o755)
        let manifest = try file(
            "key.echo.yaml",
            """
            name: key.echo
            version: 1.0.0
            description: Print the idempotency key the call was handed.
            owner: tests@example.org
            executable: {path: key.sh, sha256: \(SHA256.hex(Array(script.utf8)))}
            argv: []
            input: {type: object, additionalProperties: false, properties: {n: {type: integer}}}
            output: {format: text, maxBytes: 4KiB}
            limits: {timeoutSeconds: 60}
            risk: low
            data: {reads: [], output: [internal]}
            threats: ["maestro:L3"]

            """)
        let added = try CLI.run(["tools", "add", manifest], environment: env)
        try #require(added.status == 0, "\(added.stderr)")
        _ = try file(
            "key-policy.yaml",
            """
            airlock_policy: 1
            name: key-tool
            description: Permits the key tool.
            rules:
              - {id: permit.key, effect: permit, when: {tools: [key.echo]}, reason: the key tool is allowed, tags: [maestro:L3]}

            """)
        let workflow = try file(
            "key.yaml",
            """
            airlock_workflow: 1
            name: key-tool
            description: Runs the key tool twice.
            system_prompt: You run tools.
            task: Run the key tool.
            tools: [key.echo]
            policy: key-policy.yaml
            budgets: {wall_seconds: 300}

            """)
        let model = try file(
            "model.yaml",
            """
            responses:
              - tool_calls: [{name: key.echo, arguments: {n: 1}}]
              - tool_calls: [{name: key.echo, arguments: {n: 2}}]
              - content: Done.

            """)
        let ran = try CLI.run(
            ["run", workflow, "--model", "script:" + model, "--run-id", "keyed-run"], environment: env)
        try #require(ran.status == 0, "\(ran.stdout)\(ran.stderr)")
        let show = try CLI.run(["trace", "show", "keyed-run", "--json"], environment: env)
        try #require(show.status == 0, "\(show.stderr)")
        let events = try JSONParser().parse(show.stdout).arrayValue ?? []
        func payloads(_ type: String) -> [JSONValue] {
            events.filter { $0["type"]?.stringValue == type }.compactMap { $0["payload"] }
        }
        let executed = payloads("tool.executed")
        let results = payloads("tool.result")
        try #require(executed.count == 2 && results.count == 2, "\(show.stdout)")
        for (index, call) in executed.enumerated() {
            let callID = try #require(call["call_id"]?.stringValue)
            let key = call["idempotency_key"]?.stringValue
            #expect(key == "keyed-run:\(callID)", "\(call)")
            // What the tool saw in its environment is what the trace recorded.
            #expect(results[index]["call_id"]?.stringValue == callID)
            #expect(results[index]["content"]?.stringValue == key, "\(results[index])")
        }
        #expect(Set(executed.compactMap { $0["idempotency_key"]?.stringValue }).count == 2)
        let verified = try CLI.run(["trace", "verify", "keyed-run"], environment: env)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let replay = try CLI.run(["replay", "keyed-run"], environment: env)
        #expect(replay.status == 0 && replay.stdout.contains("replay identical"), "\(replay.stdout)\(replay.stderr)")
    }
}
