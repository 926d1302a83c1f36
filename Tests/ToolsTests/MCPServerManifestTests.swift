import AirlockCore
import Foundation
import Testing

@testable import Tools

/// `kind: mcp` manifests: decoded with the tool manifest's own checks, every problem at its
/// pointer and line; each listed tool's manifest carries its pins and reads back from the registry.
@Suite struct MCPServerManifestTests {
    static let server = """
        kind: mcp
        name: notes
        version: 1.2.0
        description: Notes over MCP.
        owner: team@example.org
        executable:
          path: server.py
          sha256: \(String(repeating: "a", count: 64))
        argv: ["--quiet"]
        filesystem:
          readOnly: ["${dataset:notes}"]
        environment:
          NOTES_DIR: "${dataset:notes}"
        risk: low
        tools:
          erase: {risk: high}

        """

    static func decode(_ text: String) throws(ToolsError) -> MCPServerManifest {
        try ManifestDecoder().decodeServer(ManifestDecoder.parseYAML(text, label: "manifest"))
    }

    static func problems(_ text: String) -> [FieldProblem] {
        do {
            _ = try decode(text)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func decodesTheServerAsItsToolsWillBe() throws {
        let server = try Self.decode(Self.server)
        #expect(server.name == "notes")
        #expect(server.server.version == "1.2.0")
        #expect(server.server.mounts.map(\.text) == ["${dataset:notes}"])
        #expect(server.server.environment["NOTES_DIR"] == "/data/notes")
        #expect(server.toolRisk == ["erase": .high])
        #expect(server.server.mcp == nil)
    }

    @Test func everyProblemIsNamedWithItsPointerAndLine() {
        let text = Self.server.replacingOccurrences(of: "name: notes", with: "name: Notes")
            .replacingOccurrences(
                of: "risk: low\n",
                with: "risk: low\ninput: {type: object}\nstdin: none\nsecrets: [{name: T, as: token, audience: a}]\n"
            )
            .replacingOccurrences(of: "erase: {risk: high}", with: "erase: {risk: extreme}")
        let problems = Self.problems(text)
        let pointers = problems.map(\.pointer)
        #expect(pointers.contains("/name"))
        #expect(pointers.contains("/input"))
        #expect(pointers.contains("/secrets/0/as"))
        #expect(pointers.contains("/stdin"))
        #expect(pointers.contains("/tools/erase/risk"))
        #expect(problems.first { $0.pointer == "/input" }?.line == 15)
        #expect(
            problems.first { $0.pointer == "/input" }?.message.contains("not allowed in a kind: mcp manifest") == true)
        // A tool's argument cannot be taken: there is no call to take it from.
        let argument = Self.server.replacingOccurrences(
            of: #"argv: ["--quiet"]"#, with: "argv: [{option: --x, arg: x}]")
        #expect(Self.problems(argument).contains { $0.pointer == "/argv/0/arg" })
    }

    @Test func aToolManifestIsNotAServerAndAServerIsNotAToolManifest() {
        #expect(throws: ToolsError.self) { try ManifestDecoder().decode(text: Self.server) }
        let tool = Self.server.replacingOccurrences(of: "kind: mcp\n", with: "")
        #expect(Self.problems(tool).contains { $0.pointer == "/kind" })
    }

    @Test func eachToolsManifestCarriesEveryPinAndReadsBack() throws {
        let server = try Self.decode(Self.server)
        let schema: JSONValue = ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]]
        let pins = [
            "lookup": MCPToolPin(description: "Look a note up.", inputSchema: schema),
            "erase": MCPToolPin(description: "Erase a note.", inputSchema: schema),
        ]
        let document = server.toolDocument(
            tool: "erase", description: "Erase a note.", inputSchema: schema, structured: false, version: "1.2.0",
            pins: pins)
        let manifest = try ManifestDecoder().decode(document)
        #expect(manifest.name == "notes.erase")
        #expect(manifest.risk == .high)
        #expect(manifest.description == "Erase a note.")
        #expect(manifest.output.format == .text)
        #expect(manifest.mcp == MCPBinding(server: "notes", tool: "erase", pins: pins))
        #expect(manifest.input.validate(["name": "a"]).isEmpty)
        #expect(!manifest.input.validate([:]).isEmpty)
        // The pins are the digests of the very text and schema listed.
        #expect(pins["lookup"]?.descriptionSHA256 == SHA256.hex(Array("Look a note up.".utf8)))
        #expect(pins["lookup"]?.inputSchemaSHA256 == SHA256.hex(schema.canonicalBytes))
        // A schema outside the subset is refused, as for any tool.
        let unsupported = server.toolDocument(
            tool: "lookup", description: "", inputSchema: ["type": "object", "patternProperties": [:]],
            structured: true, version: "1.2.0", pins: pins)
        #expect(throws: ToolsError.self) { try ManifestDecoder().decode(unsupported) }
    }

    @Test func aStoredBindingWithoutItsOwnPinIsRefused() {
        var document = Self.serverTool()
        if case .object(var members) = document {
            members["mcp"] = ["server": "notes", "tool": "lookup", "pins": [:]]
            document = .object(members)
        }
        #expect {
            try ManifestDecoder().decode(document)
        } throws: { error in
            (error as? ToolsError)?.problems.contains { $0.pointer == "/mcp/pins" } == true
        }
    }

    static func serverTool() -> JSONValue {
        let server = try? decode(Self.server)
        return server?.toolDocument(
            tool: "lookup", description: "Look a note up.", inputSchema: ["type": "object"], structured: false,
            version: "1.2.0",
            pins: ["lookup": MCPToolPin(description: "Look a note up.", inputSchema: ["type": "object"])]
        ) ?? .null
    }
}
