import AirlockCore
import ArgumentParser
import Trace

/// `airlock trace demo`: records a sample run through the Trace API (hidden; for tests and docs
/// until the agent records real runs).
struct TraceDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Record a sample run.", shouldDisplay: false)

    @OptionGroup var options: TraceOptions
    @Option(name: .long, help: "The run id.") var runID = "demo"
    @Flag(name: .long, help: "Leave the run without run.finished, as if its process died.") var unfinished = false

    func run() async throws {
        let store = try options.store()
        let key = try TraceCLI.signingKey()
        try CLI.run { () throws(TraceError) in
            let recorder = try RunRecorder(
                store: store, key: key, runID: runID,
                started: [
                    "workflow": "triage", "principal": "analyst@example.org", "policy_digest": "sha256:0f0f",
                    "model": ["name": "local-7b", "sha256": "ab12"],
                ], options: TraceRecorderOptions(checkpointInterval: 4))
            try recorder.append(
                .modelRequest, ["model": "local-7b", "messages": [["role": "user", "content": "find TODOs"]]])
            try recorder.append(
                .modelResponse, ["model": "local-7b", "finish_reason": "tool_calls", "tool_calls": [["id": "c1"]]])
            try recorder.append(.toolProposed, ["call_id": "c1", "tool": "grep", "arguments": ["pattern": "TODO"]])
            try recorder.append(
                .policyDecision,
                ["call_id": "c1", "decision": "allow", "rules": ["read-only"], "reasons": ["read-only tool"]])
            try recorder.append(
                .toolExecuted,
                [
                    "call_id": "c1", "tool": "grep",
                    "record": [
                        "termination": ["exitCode": 0], "wallSeconds": 0.02,
                        "stdout": [
                            "text": .string(String(repeating: "src/a.swift: TODO\n", count: 400)), "totalBytes": 7600,
                        ],
                        "confinement": [
                            "namespaces": ["user", "mount", "net"], "degradedLayers": [], "seccompInstructions": 42,
                        ],
                    ],
                ])
            try recorder.append(.toolResult, ["call_id": "c1", "content": "400 matches", "truncated": false])
            if !unfinished {
                try recorder.finish(["status": "succeeded", "answer": "400 TODOs in src/"])
            }
        }
        TraceCLI.print(runID)
    }
}
