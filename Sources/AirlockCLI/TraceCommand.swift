import ArgumentParser

/// `airlock trace …`: the reviewers' commands over the tamper-evident trace (docs/trace.md).
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "List, show, verify, export, import and copy run traces.",
        subcommands: [
            TraceListCommand.self, TraceShowCommand.self, TraceVerifyCommand.self, TraceExportCommand.self,
            TraceImportCommand.self, TraceCopyCommand.self, TraceKeyCommand.self, TraceTrustCommand.self,
            TraceDemoCommand.self, TraceDiffCommand.self, TraceReportCommand.self,
        ]
    )
}
