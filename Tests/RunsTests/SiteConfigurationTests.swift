import Foundation
import Model
import Runs
import Testing

@Suite("site.yaml: one reader, unknown keys refused")
struct SiteConfigurationTests {
    @Test func readsEverySection() throws {
        let site = try SiteConfiguration.parse(
            "datasets:\n  logs: /srv/logs\nmodel_hosts: [GPU1.internal]\ntool_calling: native\n", label: "site.yaml")
        #expect(site.datasets["logs"]?.path == "/srv/logs")
        #expect(site.modelHosts == ["gpu1.internal"])
        #expect(site.toolCalling == .native)
        #expect(try SiteConfiguration.parse("", label: "site.yaml") == SiteConfiguration())
        #expect(try SiteConfiguration.parse("# nothing yet\n\n", label: "site.yaml") == SiteConfiguration())
    }

    /// The addresses beyond loopback `airlock console --listen` may bind: numeric, never names.
    @Test func consoleListenTakesNumericAddressesOnly() throws {
        let site = try SiteConfiguration.parse("console_listen: [10.20.0.9, \"fd00::9\"]\n", label: "site.yaml")
        #expect(site.consoleListen == ["10.20.0.9", "fd00::9"])
        let error = #expect(throws: RunsError.self) {
            try SiteConfiguration.parse("console_listen: [console.internal]\n", label: "site.yaml")
        }
        #expect(error?.message.contains("/console_listen/0 (line 1): must be a numeric IPv4 or IPv6 address") == true)
        let notAList = #expect(throws: RunsError.self) {
            try SiteConfiguration.parse("console_listen: 10.20.0.9\n", label: "site.yaml")
        }
        #expect(notAList?.message.contains("/console_listen (line 1): must be a list of numeric addresses") == true)
    }

    /// The accounts besides its own the console's unix socket admits: names, never numbers.
    @Test func consolePeersAreAccountNames() throws {
        let site = try SiteConfiguration.parse("console_peers: [ana, svc-review_1]\n", label: "site.yaml")
        #expect(site.consolePeers == ["ana", "svc-review_1"])
        #expect(try SiteConfiguration.parse("", label: "site.yaml").consolePeers == [])
        for bad in ["[\"1001\"]", "[\"ana bob\"]", "[\"\"]", "ana"] {
            let error = #expect(throws: RunsError.self, "\(bad)") {
                try SiteConfiguration.parse("console_peers: \(bad)\n", label: "site.yaml")
            }
            #expect(error?.message.contains("/console_peers") == true, "\(error?.message ?? "")")
        }
    }

    @Test func aMissingFileIsAnEmptySite() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-absent-\(UUID()).yaml")
        #expect(try SiteConfiguration.load(url) == SiteConfiguration())
    }

    /// `trace:` names the shared trace; anything but a postgres URL or `sqlite:PATH` is refused.
    @Test func theTraceIsAPostgresURLOrASQLitePath() throws {
        let site = try SiteConfiguration.parse(
            "trace: postgres://airlock_worker@db.internal/airlock\n", label: "site.yaml")
        #expect(site.trace == "postgres://airlock_worker@db.internal/airlock")
        #expect(
            try SiteConfiguration.parse("trace: sqlite:/srv/t.sqlite\n", label: "site.yaml").trace
                == "sqlite:/srv/t.sqlite")
        for bad in ["trace: mysql://u@h/db", "trace: postgres://db.internal/airlock", "trace: [a]"] {
            let error = #expect(throws: RunsError.self) { try SiteConfiguration.parse(bad + "\n", label: "site.yaml") }
            #expect(error?.message.contains("/trace (line 1): must be postgres://") == true, "\(bad)")
        }
    }

    /// A misspelt key would otherwise leave the air-gap rule at its default without a word.
    @Test func anUnknownKeyIsAnErrorNamingItsLine() throws {
        let error = #expect(throws: RunsError.self) {
            try SiteConfiguration.parse("datasets: {}\nmodel_host: [gpu1]\n", label: "site.yaml")
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("/model_host (line 2): unknown field") == true)
        #expect(error?.message.contains("datasets, model_hosts, tool_calling") == true)
    }

    @Test func everyProblemIsListedWithItsPointer() throws {
        let text = """
            datasets:
              logs: relative/path
              bad name: /srv
              up: /srv/../etc
            model_hosts: gpu1
            tool_calling: grammar
            """
        let error = #expect(throws: RunsError.self) { try SiteConfiguration.parse(text, label: "site.yaml") }
        let message = error?.message ?? ""
        #expect(message.contains("5 problem(s)"))
        #expect(message.contains("/datasets/logs (line 2): must be an absolute path"))
        #expect(message.contains("/datasets/bad name (line 3): dataset name must be"))
        #expect(message.contains("/datasets/up (line 4): must not contain . or .. components"))
        #expect(message.contains("/model_hosts (line 5): must be a list of host names"))
        #expect(message.contains("/tool_calling (line 6): must be native or constrained"))
    }

    @Test func aDocumentThatIsNotAMappingIsRefused() throws {
        let error = #expect(throws: RunsError.self) { try SiteConfiguration.parse("- a\n- b\n", label: "site.yaml") }
        #expect(error?.message.contains("must be a mapping of datasets, model_hosts, tool_calling") == true)
    }
}

@Suite("site.yaml: model_idle_seconds")
struct SiteIdleTests {
    @Test func idleSecondsArePositiveNumbers() throws {
        #expect(try SiteConfiguration.parse("model_idle_seconds: 30\n", label: "s").modelIdleSeconds == 30)
        #expect(try SiteConfiguration.parse("model_idle_seconds: 0.5\n", label: "s").modelIdleSeconds == 0.5)
        for bad in ["0", "-3", "soon", "[1]"] {
            let error = #expect(throws: RunsError.self) {
                try SiteConfiguration.parse("model_idle_seconds: \(bad)\n", label: "s")
            }
            #expect(
                error?.message.contains("/model_idle_seconds (line 1): must be a number of seconds above 0") == true)
        }
    }
}

@Suite("site.yaml: internal_hosts")
struct SiteInternalHostsTests {
    @Test func hostsMapToNumericAddresses() throws {
        let site = try SiteConfiguration.parse(
            "internal_hosts:\n  records.internal: 10.20.0.5\n  tickets.internal: \"fd00::7\"\n", label: "site.yaml")
        #expect(site.internalHosts == ["records.internal": "10.20.0.5", "tickets.internal": "fd00::7"])
        #expect(try SiteConfiguration.parse("", label: "site.yaml").internalHosts.isEmpty)
    }

    /// No name is ever looked up: an entry must be an address, under a name a manifest can use.
    @Test func namesAndBadEntriesAreRefusedWithTheirPointer() throws {
        let text = """
            internal_hosts:
              records.internal: db.example.com
              10.0.0.9: 10.0.0.9
              Tickets: 10.0.0.7
            """
        let error = #expect(throws: RunsError.self) { try SiteConfiguration.parse(text, label: "site.yaml") }
        let message = error?.message ?? ""
        #expect(message.contains("3 problem(s)"))
        #expect(message.contains("/internal_hosts/records.internal (line 2): must be a numeric IPv4 or IPv6 address"))
        #expect(message.contains("/internal_hosts/10.0.0.9 (line 3): must be a host name"))
        #expect(message.contains("/internal_hosts/Tickets (line 4): must be a host name"))
        let list = #expect(throws: RunsError.self) {
            try SiteConfiguration.parse("internal_hosts: [a, b]\n", label: "site.yaml")
        }
        #expect(list?.message.contains("/internal_hosts (line 1): must be a mapping") == true)
    }
}
