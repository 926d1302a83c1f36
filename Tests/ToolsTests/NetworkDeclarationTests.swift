import AirlockCore
import Foundation
import Sandbox
import Testing

@testable import Tools

@Suite("Manifest network.connect and corridors")
struct NetworkDeclarationTests {
    static let network = """
        network:
          connect:
            - {host: records.internal, port: 5432}
            - {host: records.internal, port: 8080}
            - {host: tickets.internal, port: 443}
          limits: {connections: 4, bytes: 1MiB}
        """

    @Test func endpointsAndLimitsDecodeAndBecomeFacts() throws {
        let m = try Fixtures.decode(Fixtures.manifest(extra: Self.network))
        #expect(
            m.network.connect.map(\.text) == ["records.internal:5432", "records.internal:8080", "tickets.internal:443"])
        #expect(m.network.limits == CorridorLimits(maxConnections: 4, maxBytes: 1 << 20))
        #expect(m.facts.network == ["records.internal:5432", "records.internal:8080", "tickets.internal:443"])
        #expect(try Fixtures.decode(Fixtures.manifest()).network == NetworkDeclaration())
    }

    @Test func everyBadEndpointIsNamed() throws {
        let problems = Fixtures.problems(
            Fixtures.manifest(
                extra: """
                    network:
                      connect:
                        - {host: 10.0.0.5, port: 5432}
                        - {host: localhost, port: 22}
                        - {host: Records.Internal, port: 1}
                        - {host: records.internal, port: 0}
                        - {host: records.internal}
                        - {host: records.internal, port: 80, scheme: tcp}
                        - {host: a.internal, port: 80}
                        - {host: a.internal, port: 80}
                      proxy: yes
                    """)
        ).map(\.description)
        #expect(problems.contains { $0.hasPrefix("/network/connect/0/host (line") && $0.contains("not an address") })
        #expect(problems.contains { $0.hasPrefix("/network/connect/1/host") })
        #expect(problems.contains { $0.hasPrefix("/network/connect/2/host") })
        #expect(problems.contains { $0.hasPrefix("/network/connect/3/port") && $0.contains("from 1 to 65535") })
        #expect(
            problems.contains { $0.hasPrefix("/network/connect/4") && $0.contains("missing required field \"port\"") })
        #expect(problems.contains { $0.hasPrefix("/network/connect/5/scheme") && $0.contains("unknown field") })
        #expect(
            problems.contains { $0.hasPrefix("/network/connect/7") && $0.contains("a.internal:80 is declared twice") })
        #expect(problems.contains { $0.hasPrefix("/network/proxy") && $0.contains("unknown field") })
    }

    @Test func hostsResolveOnlyThroughTheSiteMap() throws {
        let declaration = try Fixtures.decode(Fixtures.manifest(extra: Self.network)).network
        let corridors = try declaration.corridors(
            internalHosts: ["records.internal": "10.20.0.5", "tickets.internal": "fd00::7"], tool: "demo.echo@1.0.0")
        #expect(corridors.map(\.address) == ["10.20.0.5", "10.20.0.5", "fd00::7"])
        // One loopback address inside per distinct host, clear of 127.0.0.1.
        #expect(corridors.map(\.insideAddress) == ["127.1.0.1", "127.1.0.1", "127.1.0.2"])
        do {
            _ = try declaration.corridors(internalHosts: ["records.internal": "10.20.0.5"], tool: "demo.echo@1.0.0")
            Issue.record("an unmapped host resolved")
        } catch {
            #expect(error.code == .corridorUnresolved)
            #expect(error.message.contains("network.connect/2 tickets.internal:443"))
            #expect(error.message.contains("not in site.yaml internal_hosts"))
        }
    }

    static func register(_ registry: ToolRegistry, _ text: String) throws -> RegisteredTool {
        let file = try ManifestFile.load(Fixtures.manifestDirectory(text).1)
        _ = try registry.add([file])
        return try registry.resolve(file.manifest.name)
    }

    @Test func theRunnerGivesTheSandboxItsCorridorsOrRefusesTheCall() throws {
        let registry = try Fixtures.registry()
        let tool = try Self.register(registry, Fixtures.manifest(extra: Self.network))
        var runner = ToolRunner(registry: registry, sandbox: RecordingSandbox())
        do {
            _ = try runner.prepare(tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
            Issue.record("a tool with unmapped hosts was prepared")
        } catch {
            #expect(error.code == .corridorUnresolved)
        }
        runner.internalHosts = ["records.internal": "10.20.0.5", "tickets.internal": "10.20.0.6"]
        let spec = try runner.prepare(tool, arguments: ["words": []], context: ToolRunContext(workspace: nil))
        #expect(spec.corridors.count == 3)
        #expect(spec.corridorLimits.maxConnections == 4)
        #expect(
            spec.environment[ToolRunner.endpointsVariable]
                == "records.internal:5432 records.internal:8080 tickets.internal:443")
        let plain = try Self.register(registry, Fixtures.manifest(name: "demo.plain"))
        let none = try runner.prepare(plain, arguments: ["words": []], context: ToolRunContext(workspace: nil))
        #expect(none.corridors.isEmpty && none.environment[ToolRunner.endpointsVariable] == nil)
    }
}

@Suite("Manifest network.http")
struct HTTPDeclarationTests {
    @Test func httpEntriesCarryTheirRulesAndHttpsPassesTLSThrough() throws {
        let m = try Fixtures.decode(
            Fixtures.manifest(
                extra: """
                    network:
                      http:
                        - {url: "http://tickets.internal:8080", methods: [GET, POST], paths: [/api/tickets, "/api/tickets/*"]}
                        - {url: "https://vault.internal"}
                    """))
        #expect(m.network.endpoints.map(\.text) == ["tickets.internal:8080", "vault.internal:443"])
        #expect(
            m.network.http.first?.rules
                == HTTPRules(methods: ["GET", "POST"], paths: ["/api/tickets", "/api/tickets/*"]))
        #expect(m.network.http.last?.rules == nil)
        let corridors = try m.network.corridors(
            internalHosts: ["tickets.internal": "10.0.0.8", "vault.internal": "10.0.0.9"], tool: "demo.echo@1.0.0")
        #expect(corridors.map { $0.http != nil } == [true, false])
        #expect(m.facts.network == ["tickets.internal:8080", "vault.internal:443"])
    }

    @Test func everyBadHTTPEntryIsNamed() {
        let problems = Fixtures.problems(
            Fixtures.manifest(
                extra: """
                    network:
                      http:
                        - {url: "http://10.0.0.8/api", methods: [GET], paths: [/]}
                        - {url: "https://vault.internal", methods: [GET]}
                        - {url: "http://tickets.internal", methods: [BREW], paths: ["/a/../b"]}
                        - {url: "http://tickets.internal"}
                    """)
        ).map(\.description)
        #expect(problems.contains { $0.hasPrefix("/network/http/0/url") && $0.contains("http://HOST[:PORT]") })
        #expect(
            problems.contains { $0.hasPrefix("/network/http/1/methods") && $0.contains("cannot be enforced on https") })
        #expect(
            problems.contains { $0.hasPrefix("/network/http/2/methods/0") && $0.contains("unknown method \"BREW\"") })
        #expect(problems.contains { $0.hasPrefix("/network/http/2/paths/0") })
        #expect(problems.contains { $0.hasPrefix("/network/http/3/methods") && $0.contains("at least one method") })
        #expect(problems.contains { $0.hasPrefix("/network/http/3") && $0.contains("declared twice") })
    }
}
