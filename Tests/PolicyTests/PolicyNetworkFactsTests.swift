import AirlockCore
import Testing

@testable import Policy

@Suite("Policy: a tool's network facts")
struct PolicyNetworkFactsTests {
    static let digest = String(repeating: "c", count: 64)

    static let policy = """
        airlock_policy: 1
        name: corridors
        rules:
          - id: records.only.for.analysts
            effect: forbid
            when: {tool_network_any: [records.internal]}
            unless: {roles: [analyst]}
            reason: "{tool} reaches the records service"
            tags: [maestro:L4]
          - id: tickets.write
            effect: require_approval
            when: {tool_network_any: ["tickets.internal:443"]}
            reason: "{tool} reaches the ticketing API"
            tags: [asi:02]
          - id: offline.permit
            effect: permit
            when: {tool_network: false}
            reason: "{tool} has no network"
            tags: [maestro:L4]
          - id: network.permit
            effect: permit
            when: {tool_network: true, roles: [analyst]}
            reason: "{role} may use {tool}"
            tags: [maestro:L4]
        """

    static func decide(_ network: [String], role: String = "analyst") throws -> Decision {
        let facts = ToolFacts(
            name: "t", version: "1", risk: .low, pinnedDigest: digest, currentDigest: digest, network: network)
        return try Policy(yaml: policy).evaluate(
            PolicyInput(
                toolName: "t", arguments: [:], tool: facts,
                principal: .init(user: "u", role: role, workflow: "w", agent: "a"), context: .init()))
    }

    @Test func rulesSeeTheEndpointsByHostOrHostAndPort() throws {
        #expect(try Self.decide([]).rules == ["offline.permit"])
        #expect(try Self.decide(["records.internal:5432"]).effect == .allow)
        #expect(try Self.decide(["records.internal:5432"], role: "guest").rules == ["records.only.for.analysts"])
        #expect(try Self.decide(["tickets.internal:443"]).effect == .ask)
        // A port the rule does not name, and a host that only starts the same, do not match.
        #expect(try Self.decide(["tickets.internal:8443"]).effect == .allow)
        #expect(
            !(try Self.decide(["records.internal.evil:80"], role: "guest").rules.contains("records.only.for.analysts")))
    }

    @Test func theFactsReadFromACallFileCarryTheEndpoints() throws {
        let facts = ToolFacts(
            name: "t", version: "1", risk: .low, pinnedDigest: Self.digest, currentDigest: Self.digest,
            network: ["records.internal:5432"])
        #expect(facts.json["network"] == ["records.internal:5432"])
    }
}
