// swift-tools-version: 6.0
// Airlock: a confined runtime for local AI agents. See README.md and docs/.
import PackageDescription

let package = Package(
    name: "Airlock",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "airlock", targets: ["AirlockCLI"]),
        // What the libFuzzer harnesses in Fuzz/ (a package of their own) drive: the parsers of
        // everything that crosses into Airlock.
        .library(name: "AirlockParsers", targets: ["AirlockCore", "Model", "Policy", "Tools", "Trace", "Agent"]),
        // The library modules the benchmarks in Benchmarks/ (a package of their own, like Fuzz/)
        // measure, so that no benchmark code lives in them or in the `airlock` executable.
        .library(
            name: "AirlockModules",
            targets: [
                "AirlockCore", "SQLiteSupport", "Sandbox", "Tools", "Policy", "Trace", "Model", "ModelRuntime",
                "Secrets", "RunEvents", "Agent", "Approvals", "MCPTools", "Runs", "Replay", "Evaluation", "Console",
            ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The Model Context Protocol (spec revision 2025-11-25): `airlock mcp serve`.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // The logger type the MCP SDK's `Transport` protocol names (MCPTools' transport over a sandbox's pipes).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The reviewers' and approvers' web console: `airlock console`.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The console's unix socket names each connection's peer (`SO_PEERCRED`) through NIO's socket options.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // PostgreSQL for a site that outgrows one machine: the shared trace store and the run queue.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries (Debian: libseccomp-dev, libcap-dev, libsqlite3-dev, libssl-dev, zlib1g-dev).
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),

        // The child side of a confined run: C only, async-signal-safe after clone.
        .target(
            name: "CSandbox",
            path: "Sources/CSandbox",
            exclude: ["README.md"],
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]),

        // The curl functions URLSession (linked with the MCP SDK's HTTP client) calls, loading
        // libcurl on the first call rather than at every start (docs/performance.md, "One-shot CLI").
        .target(
            name: "CLazyCurl", path: "Sources/CLazyCurl", exclude: ["README.md"],
            cSettings: [.define("_GNU_SOURCE")]),

        // Shared value types: JSON, digests, canonical encoding. No I/O beyond hashing.
        .target(
            name: "AirlockCore", dependencies: ["CCrypto", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"]),
        // The one wrapper over the sqlite3 C API, shared by Trace and Tools.
        .target(name: "SQLiteSupport", dependencies: ["CSQLite"], exclude: ["README.md"]),
        .target(name: "Sandbox", dependencies: ["CSandbox", "AirlockCore"], exclude: ["README.md"]),
        .target(
            name: "Tools",
            dependencies: [
                "AirlockCore", "Sandbox", "SQLiteSupport", "Secrets", .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"]),
        .target(
            name: "Policy", dependencies: ["AirlockCore", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"]),
        .target(
            name: "Trace", dependencies: ["AirlockCore", "SQLiteSupport", "CCrypto", "CSodium"], exclude: ["README.md"]),
        .target(name: "Model", dependencies: ["AirlockCore"], exclude: ["README.md"]),
        // The embedded local model: pinned artefacts, the confined build, the confined server.
        .target(
            name: "ModelRuntime", dependencies: ["AirlockCore", "Sandbox", "Model", "CZlib"],
            exclude: ["README.md"]),
        // The local secret store, per-call tokens and redaction.
        .target(name: "Secrets", dependencies: ["AirlockCore", "CCrypto", "Trace"], exclude: ["README.md"]),
        // The typed payload of every run event: what Agent writes and Replay, review and export read.
        .target(
            name: "RunEvents", dependencies: ["AirlockCore", "Trace", "Model", "Sandbox"], exclude: ["README.md"]),
        .target(
            name: "Agent",
            dependencies: ["AirlockCore", "Model", "Tools", "Policy", "Trace", "Sandbox", "Secrets", "RunEvents"],
            exclude: ["README.md"]),
        // The home's approval requests: what a run waits on and `airlock approvals` answers.
        .target(
            name: "Approvals", dependencies: ["AirlockCore", "SQLiteSupport", "RunEvents"], exclude: ["README.md"]),
        // MCP servers as tool providers: each started confined, its tools pinned, called as a client.
        .target(
            name: "MCPTools",
            dependencies: [
                "AirlockCore", "Sandbox", "Tools", .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                // Whatever links the MCP SDK links its URLSession client, and so libcurl: lazily.
                "CLazyCurl",
            ],
            exclude: ["README.md"]),
        // The one way a run is assembled, live from a home or from its record: every front door's.
        .target(
            name: "Runs",
            dependencies: [
                "AirlockCore", "Model", "ModelRuntime", "Tools", "Policy", "Trace", "Secrets", "RunEvents", "Agent",
                "Approvals", "MCPTools", "TracePostgres",
            ],
            exclude: ["README.md"]),
        .target(
            name: "Replay",
            dependencies: [
                "AirlockCore", "Model", "Tools", "Policy", "Trace", "Sandbox", "Agent", "Secrets", "RunEvents", "Runs",
            ],
            exclude: ["README.md"]),
        // `airlock eval`: suites of tasks run as real runs and judged from their verified traces.
        .target(
            name: "Evaluation",
            dependencies: ["AirlockCore", "Agent", "Runs", "Replay", "RunEvents", "Trace"],
            exclude: ["README.md"]),
        // The trace store on PostgreSQL (the same chain, checkpoints and verifier as SQLite), the
        // schema and roles `airlock db init` creates. NIO starts only when a postgres URL is used.
        .target(
            name: "TracePostgres",
            dependencies: [
                "AirlockCore", "Approvals", "RunEvents", "Trace", .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            exclude: ["README.md"]),
        // The run queue and its workers on the site's PostgreSQL database (docs/scale.md).
        .target(
            name: "RunQueue",
            dependencies: ["AirlockCore", "Agent", "Approvals", "Runs", "Trace", "TracePostgres"],
            exclude: ["README.md"]),
        // `airlock doctor`: checks that show the air gap holds on this host.
        .target(
            name: "Doctor",
            dependencies: [
                "AirlockCore", "Sandbox", "Tools", "Trace", "Model", "ModelRuntime", "Runs", "TracePostgres",
            ],
            exclude: ["README.md"]),
        // The MCP front door: the registered tools served to MCP clients, each session a run.
        .target(
            name: "MCPGateway",
            dependencies: [
                "AirlockCore", "Model", "Trace", "Secrets", "Agent", "Runs", "MCPTools",
                .product(name: "MCP", package: "swift-sdk"),
                // Streamable HTTP on a unix socket (`mcp serve --http`).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["README.md"]),
        // The web console for reviewers and approvers, and the one HTML rendering of a run
        // (`airlock console`, `airlock trace report`).
        .target(
            name: "Console",
            dependencies: [
                "AirlockCore", "Trace", "RunEvents", "Model", "Sandbox", "Approvals", "Policy", "Replay",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["README.md"]),
        .executableTarget(
            name: "AirlockCLI",
            dependencies: [
                "AirlockCore", "Sandbox", "Tools", "Policy", "Trace", "Model", "ModelRuntime", "Agent", "Replay",
                "Doctor", "Secrets", "RunEvents", "Runs", "Approvals", "MCPGateway", "MCPTools", "Evaluation", "Console", "TracePostgres",
                "RunQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]),

        // What the CLI tests need another process for and the product does not ship: the crash
        // test's append loop and the sandbox leak check (Tests/TestHelper/TestHelper.swift).
        .executableTarget(
            name: "airlock-test-helper", dependencies: ["AirlockCore", "Trace", "Sandbox", "Runs"],
            path: "Tests/TestHelper"),

        // What several test targets share (one copy, not one per target): a temporary home with
        // the shipped tools registered (AgentFixture) and a scripted OpenAI-compatible server
        // (ChatTestServer). Built only for the tests; no product ships it.
        .target(
            name: "AirlockTestSupport",
            dependencies: ["Agent", "AirlockCore", "Model", "Policy", "Runs", "Sandbox", "Tools", "Trace"],
            path: "Tests/AirlockTestSupport"),

        .testTarget(name: "AirlockCoreTests", dependencies: ["AirlockCore"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "AirlockCore"]),
        .testTarget(name: "RunEventsTests", dependencies: ["RunEvents", "AirlockCore", "Trace", "Model", "Sandbox"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "AirlockTestSupport"]),
        .testTarget(name: "ToolsTests", dependencies: ["Tools"]),
        .testTarget(
            name: "MCPToolsTests",
            dependencies: [
                "MCPTools", "Tools", "Sandbox", "AirlockCore", "AirlockTestSupport", "CLazyCurl",
                .product(name: "MCP", package: "swift-sdk"),
            ]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"], exclude: ["Fixtures"]),
        .testTarget(name: "TraceTests", dependencies: ["Trace", "SQLiteSupport", "AirlockTestSupport", "CCrypto"]),
        .testTarget(name: "SQLiteSupportTests", dependencies: ["SQLiteSupport"]),
        .testTarget(
            name: "TracePostgresTests",
            dependencies: ["TracePostgres", "Trace", "Approvals", "AirlockCore", "AirlockTestSupport"]),
        .testTarget(
            name: "RunQueueTests",
            dependencies: [
                "RunQueue", "TracePostgres", "Trace", "Runs", "Agent", "AirlockCore", "AirlockTestSupport",
            ]),
        .testTarget(name: "CLITests", dependencies: ["AirlockCore", "AirlockTestSupport"]),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", "Tools", "Sandbox", "Trace"]),
        .testTarget(name: "ModelTests", dependencies: ["Model"]),
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime", "Model", "Sandbox", "AirlockCore"]),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "Model", "Tools", "Policy", "Trace", "Sandbox", "Runs", "AirlockTestSupport"]),
        .testTarget(
            name: "RunsTests",
            dependencies: [
                "Runs", "Replay", "Agent", "Model", "ModelRuntime", "Tools", "Trace", "RunEvents", "AirlockCore",
                "Policy", "Sandbox", "Approvals", "AirlockTestSupport",
            ]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Runs", "Agent", "Model", "Trace", "Replay", "RunEvents", "AirlockCore"]),
        .testTarget(
            name: "DoctorTests",
            dependencies: [
                "Doctor", "Tools", "Trace", "Sandbox", "ModelRuntime", "AirlockCore", "TracePostgres",
                "AirlockTestSupport",
            ]),
        .testTarget(
            name: "ReplayTests",
            dependencies: ["Replay", "Runs", "Agent", "Model", "Tools", "Policy", "Trace", "Sandbox", "AirlockTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
