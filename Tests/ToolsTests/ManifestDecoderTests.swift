import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

@Suite("Manifest decoding")
struct ManifestDecoderTests {
    @Test func aValidManifestDecodesWithDocumentedDefaults() throws {
        let m = try Fixtures.decode(Fixtures.manifest())
        #expect(m.name == "demo.echo")
        #expect(m.version == "1.0.0")
        #expect(
            m.argv == [
                .option(name: "--count", argument: "count"), .literal(TextTemplate(segments: [.text("--")])),
                .positional(argument: "words"),
            ])
        #expect(m.output.format == .text)
        #expect(m.output.maxBytes == 64 << 10)
        #expect(m.limits == ToolLimits())
        #expect(m.limits.timeoutSeconds == 10 && m.limits.memoryBytes == 256 << 20 && m.limits.processes == 16)
        #expect(m.mounts.isEmpty && m.syscallGroups.isEmpty && !m.argumentsOnStdin)
        #expect(m.risk == .low)
    }

    @Test func everyProblemIsReportedWithPointerAndLine() throws {
        let text = """
            name: Demo
            version: one
            description: ""
            owner: me
            executable:
              path: echo.sh
              sha256: XYZ
              mode: 755
            argv:
              - {arg: words}
              - {flag: --count, arg: count}
              - {option: "-c", arg: nope}
            input:
              type: object
              properties:
                words: {type: array}
                count: {type: integer}
              patternProperties: {}
            output: {format: xml, maxBytes: 0}
            filesystem:
              readOnly: ["${dataset:logs}/../etc", "/etc/passwd", "${home}", "${dataset:logs}/../\u{0301}etc"]
              readWrite: ["${dataset:logs}"]
            environment: {"1BAD": x, GOOD: "${dataset:nope}"}
            limits: {timeoutSeconds: 0, memory: 12 apples, colour: red}
            seccomp: [ptrace]
            risk: extreme
            data: {reads: [PII]}
            threats: ["asi:11"]
            extra: true
            """
        let problems = Fixtures.problems(text)
        func has(_ pointer: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(
                problems.contains { $0.pointer == pointer && $0.line == line && $0.message.contains(fragment) },
                "no problem at \(pointer) line \(line) containing \(fragment); got \(problems)",
                sourceLocation: sourceLocation)
        }
        has("/name", line: 1, "lowercase dotted segments")
        has("/version", line: 2, "MAJOR.MINOR.PATCH")
        has("/description", line: 3, "must not be empty")
        has("/executable/sha256", line: 7, "64 lowercase hex")
        has("/executable/mode", line: 8, "unknown field \"mode\"")
        has("/argv/0", line: 10, "after a literal \"--\"")
        has("/argv/1/arg", line: 11, "type boolean")
        has("/argv/2/option", line: 12, "must be --NAME")
        has("/argv/2/arg", line: 12, "not a property of the input schema")
        has("/input/patternProperties", line: 18, "outside Airlock's schema subset")
        has("/output/format", line: 19, "must be one of text, json")
        has("/output/maxBytes", line: 19, "must be a size")
        has("/filesystem/readOnly/0", line: 21, "'..'")
        has("/filesystem/readOnly/1", line: 21, "host paths cannot be mounted")
        has("/filesystem/readOnly/2", line: 21, "unknown variable ${home}")
        // A '/' followed by a combining mark is one Character: the '..' before it is still seen.
        has("/filesystem/readOnly/3", line: 21, "'..'")
        has("/filesystem/readWrite/0", line: 22, "datasets cannot be mounted read-write")
        has("/environment/1BAD", line: 23, "not a valid variable name")
        has("/environment/GOOD", line: 23, "not mounted")
        has("/limits/timeoutSeconds", line: 24, "from 0.1 to 3600")
        has("/limits/memory", line: 24, "must be a size")
        has("/limits/colour", line: 24, "unknown field")
        has("/seccomp/0", line: 25, "unknown syscall group \"ptrace\"")
        has("/risk", line: 26, "low, medium, high, critical")
        has("/data/reads/0", line: 27, "label \"PII\"")
        has("/threats/0", line: 28, "unknown threat tag")
        has("/extra", line: 29, "unknown field \"extra\"")
    }

    @Test func missingFieldsAndWrongTypesAreNamed() throws {
        let problems = Fixtures.problems("name: a.b\nversion: 1.0.0\nargv: nope\nlimits: [1]\n")
        let text = problems.map(\.description)
        #expect(text.contains("(root) (line 1): missing required field \"description\""))
        #expect(text.contains("(root) (line 1): missing required field \"executable\""))
        #expect(text.contains("(root) (line 1): missing required field \"input\""))
        #expect(text.contains("/argv (line 3): must be an array, not string"))
        #expect(text.contains("/limits (line 4): must be an object, not array"))
    }

    @Test func aMissingPinSaysHowToWriteIt() {
        let text = Fixtures.manifest().replacingOccurrences(of: "  sha256: ", with: "  #sha256: ")
        #expect(Fixtures.problems(text).map(\.description).contains { $0.contains("airlock tools add --pin") })
    }

    @Test func invalidYAMLIsOneProblemWithItsLine() {
        let problems = Fixtures.problems("name: a.b\nname: c.d\n")
        #expect(problems.count == 1)
        #expect(problems.first?.line != nil)
        #expect(problems.first?.message.contains("name") == true)
    }

    @Test func theInputMustBeAnObjectSchema() {
        let text = Fixtures.manifest().replacingOccurrences(of: "  type: object\n", with: "  type: array\n")
        #expect(Fixtures.problems(text).contains { $0.pointer == "/input/type" })
    }

    @Test func variablesMustBeMountedBeforeUse() throws {
        let extra = "filesystem:\n  readOnly: [\"${dataset:logs}/2026\"]"
        var text = Fixtures.manifest(extra: extra).replacingOccurrences(
            of: "argv:\n", with: "argv:\n  - --root=${dataset:logs}\n")
        // A subdirectory mount does not make the variable's root available.
        #expect(Fixtures.problems(text).contains { $0.pointer == "/argv/0" && $0.message.contains("not mounted") })
        text = text.replacingOccurrences(of: "${dataset:logs}/2026", with: "${dataset:logs}")
        let m = try Fixtures.decode(text)
        #expect(m.mounts == [MountSpec(variable: .dataset("logs"), subpath: [], writable: false)])
        #expect(try ArgvElement.render(m.argv, arguments: ["words": ["x"]]) == ["--root=/data/logs", "--", "x"])
    }

    @Test func sizesAcceptUnits() throws {
        let m = try Fixtures.decode(
            Fixtures.manifest(extra: "limits: {memory: 64MiB, fileSize: 1024}\noutput: {maxBytes: 4KiB, format: json}"))
        #expect(m.limits.memoryBytes == 64 << 20)
        #expect(m.limits.fileSizeBytes == 1024)
        #expect(m.output.maxBytes == 4096)
        #expect(ByteSize.parse("1GiB") == 1 << 30)
        #expect(ByteSize.parse("12 apples") == nil)
        #expect(ByteSize.parse("MiB") == nil)
    }

    @Test func factsAndModelDescription() throws {
        let extra = """
            filesystem: {readOnly: ["${dataset:logs}"], readWrite: ["${workspace}"]}
            data: {reads: [pii], output: [pii, internal]}
            threats: ["asi:02", "maestro:L3"]
            """
        let m = try Fixtures.decode(Fixtures.manifest(extra: extra))
        let facts = m.facts
        #expect(facts.name == "demo.echo" && facts.version == "1.0.0" && facts.risk == .low)
        #expect(facts.readsLabels == ["pii"] && facts.outputLabels == ["pii", "internal"])
        #expect(facts.datasets == ["logs"] && facts.writesWorkspace && !facts.writesOutsideWorkspace)
        #expect(facts.threats == ["asi:02", "maestro:L3"])
        #expect(facts.pinnedDigest == SHA256.hex(Array(Fixtures.script.utf8)))
        #expect(facts.manifestSHA256 == SHA256.hex(m.document.canonicalBytes))
        let tool = m.modelToolDescription
        #expect(tool["type"] == "function")
        #expect(tool["function"]?["name"] == "demo.echo")
        #expect(tool["function"]?["description"] == "Echo the words back.")
        #expect(tool["function"]?["parameters"] == m.input.document)
    }

    @Test func everyShippedManifestLintsClean() throws {
        let dir = Fixtures.repository.appendingPathComponent("manifests/tools")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 5)
        for name in files {
            let file = try ManifestFile.load(dir.appendingPathComponent(name))
            #expect(name == file.manifest.name + ".yaml")
            #expect(!file.manifest.threats.isEmpty)
        }
    }
}
