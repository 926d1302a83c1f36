// swift-tools-version: 6.0
// Airlock's benchmarks: a package of their own (as swift-nio keeps its benchmarks), so that no
// benchmark code lives in the library modules or the `airlock` executable. Each benchmark runs its
// anchor (Cedar, plain SQLite, libcrypto, bwrap, /bin/true, posix_spawn, llama-server's own
// timings) in the same process, interleaved with the figure it anchors; thresholds.json holds the
// committed ratios. Build and run everything with `tools/bench` (build dir .build-bench).
import PackageDescription

let package = Package(
    name: "AirlockBenchmarks",
    dependencies: [.package(name: "Airlock", path: "..")],
    targets: [
        .executableTarget(
            name: "airlock-bench",
            dependencies: [.product(name: "AirlockModules", package: "Airlock")],
            path: "Sources/airlock-bench")
    ],
    swiftLanguageModes: [.v6]
)
