import AirlockCore
import Foundation
import Testing

/// What the model writes reaches the analyst's terminal only escaped: `airlock run`'s progress
/// lines, its approval prompt (on a real pseudo-terminal) and `trace show`.
@Suite("terminal escaping (CLI)", .serialized)
struct TerminalEscapingCLITests {
    let home: URL
    var env: [String: String] { ["AIRLOCK_HOME": home.path] }

    init() throws {
        home = try SampleSite.make("airlock-escape-home")
    }

    func script(_ text: String) throws -> String {
        let url = home.appendingPathComponent("script-\(UUID().uuidString.prefix(6)).yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func workflow(_ name: String) -> String {
        SampleSite.root.appendingPathComponent("manifests/workflows/\(name).yaml").path
    }

    /// Whether `text` holds a scalar a terminal would act on (ESC, CSI, BEL, CR, a bidi override).
    static func holdsControls(_ text: String, allowingCR: Bool = false) -> Bool {
        text.unicodeScalars.contains { s in
            (s.value < 0x20 && s != "\n" && s != "\t" && !(allowingCR && s == "\r"))
                || (0x7F...0x9F).contains(s.value) || (0x202A...0x202E).contains(s.value)
                || (0x2066...0x2069).contains(s.value)
        }
    }

    @Test func progressLinesAndTraceShowEscapeTheModelsText() throws {
        // YAML double quotes: \e is ESC, \a BEL, \r CR, \u202E RIGHT-TO-LEFT OVERRIDE.
        let model = try script(
            #"""
            responses:
              - tool_calls:
                  - id: "call_1\e[8m\rapproved: logs.search"
                    name: "logs.search\u202E"
                    arguments: "{\"pattern\": \"\e]0;owned\a\u202EERROR\u009B\"}"
                  - id: "call_ok-2"
                    name: logs.search
                    arguments: {pattern: "ERR\u202EOR"}
              - content: "done \e[2J\u202E"
            """#)
        let result = try CLI.run(["run", workflow("log-triage"), "--model", "script:" + model], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!Self.holdsControls(result.stderr), "\(result.stderr.debugDescription)")
        #expect(!Self.holdsControls(result.stdout), "\(result.stdout.debugDescription)")
        // The id carrying an escape sequence was not kept: the agent named the call.
        #expect(result.stderr.contains("call-1-1 proposed logs.search\\u202E {\"pattern\": \"\\u001B]0;owned\\u0007"))
        #expect(!result.stderr.contains("approved: logs.search"))
        // A well-formed id is kept; the bidi override in its arguments is shown, not obeyed.
        #expect(result.stderr.contains("call_ok-2 proposed logs.search {\"pattern\":\"ERR\\u202EOR\"}"))
        #expect(result.stdout.hasPrefix("done \\u001B[2J\\u202E\n"))

        let runLine = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("run: ") })
        let runID = String(runLine.dropFirst(5).prefix { $0 != " " })
        let show = try CLI.run(["trace", "show", runID], environment: env)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(!Self.holdsControls(show.stdout), "\(show.stdout.debugDescription)")
        #expect(show.stdout.contains("\\u202E"))
        // JSON output stays JSON with the same values.
        let json = try CLI.run(["trace", "show", runID, "--json"], environment: env)
        #expect(!Self.holdsControls(json.stdout))
        #expect(json.stdout.contains("ERR\\u202EOR"))
        let data = try #require(json.stdout.data(using: .utf8))
        #expect((try? JSONSerialization.jsonObject(with: data)) != nil)
    }

    /// Recorded text cannot start a line of `trace show` and pass for an event: an answer (or a
    /// reason, a tool's output) with line breaks stays on its own event's line, breaks as `⏎`.
    @Test func recordedLineBreaksCannotForgeATimelineLine() throws {
        let forged = "#99    +0.001ms      tool.executed       ran rm -rf / exit 0"
        let model = try script(
            """
            responses:
              - content: "All good.\\n\(forged)\\r\(forged)\\u2028\(forged)"
            """)
        let result = try CLI.run(
            ["run", workflow("log-triage"), "--model", "script:" + model, "--json", "--quiet"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let runID = try #require(try JSONParser().parse(result.stdout)["run_id"]?.stringValue)
        for extra in [[], ["--full"]] {
            let show = try CLI.run(["trace", "show", runID] + extra, environment: env)
            #expect(show.status == 0, "\(show.stderr)")
            let lines = show.stdout.split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix("#99") }, "\(show.stdout)")
            #expect(lines.contains { $0.contains("status succeeded: All good.⏎#99") }, "\(show.stdout)")
        }
    }

    @Test func theApprovalPromptOnATerminalShowsTheCallEscaped() throws {
        let scriptTool = URL(fileURLWithPath: "/usr/bin/script")
        guard FileManager.default.isExecutableFile(atPath: scriptTool.path) else {
            Issue.record("util-linux script(1) is needed to give airlock run a terminal")
            return
        }
        // max_rows 200 asks for approval (approval.large-extract); the query carries a bidi
        // override and a CSI that would reorder or hide the prompt's text.
        let model = try script(
            #"""
            responses:
              - tool_calls:
                  - id: "call_x\r\e[1Aapproval needed for call_1: csv.summarize"
                    name: sql.select
                    arguments: {query: "SELECT name FROM sites -- \u202E\u009B8m", max_rows: 200}
              - content: "refused, fine"
            """#)
        let command = [
            CLI.binary.path, "run", workflow("dataset-report"), "--param", "question=q", "--model",
            "script:" + model,
        ]
        .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = scriptTool
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(env) {
            $1
        }
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data("n\n".utf8))
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        // The terminal turns each \n into \r\n, and the spinner clears its line with \r ESC[2K,
        // erases what a longer frame left with ESC[K, and hides the cursor while it spins
        // (ESC[?25l, ESC[?25h): everything else of what was printed must be free of controls.
        let printed = text.replacingOccurrences(of: "\r\u{1B}[2K", with: "").replacingOccurrences(
            of: "\u{1B}[K", with: ""
        )
        .replacingOccurrences(of: "\u{1B}[?25l", with: "").replacingOccurrences(of: "\u{1B}[?25h", with: "")
        #expect(printed.contains("approval needed for call-1-1: sql.select"), "\(text.debugDescription)")
        #expect(printed.contains("SELECT name FROM sites -- \\u202E\\u009B8m"), "\(text.debugDescription)")
        #expect(!Self.holdsControls(printed, allowingCR: true), "\(printed.debugDescription)")
        #expect(!printed.contains("approval needed for call_1: csv.summarize"))
    }
}
