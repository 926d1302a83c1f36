// swift-tools-version: 6.0
// libFuzzer harnesses for Airlock's parsers: a package of its own so that the main build never
// needs -sanitize=fuzzer. Build and run with `tools/fuzz TARGET SECONDS` (build dir .build-fuzz).
import PackageDescription

let targets = ["json", "manifest", "policy", "workflow", "model-reply", "trace-import"]

let package = Package(
    name: "AirlockFuzz",
    dependencies: [.package(name: "Airlock", path: "..")],
    targets: [
        // libFuzzer's driver, called from each harness's entry point (see al_fuzz_driver.h).
        .target(name: "CFuzzDriver", path: "Sources/CFuzzDriver")
    ]
        + targets.map { name in
            .executableTarget(
                name: "fuzz-\(name)",
                dependencies: ["CFuzzDriver", .product(name: "AirlockParsers", package: "Airlock")],
                path: "Sources/\(name)")
        }
)
