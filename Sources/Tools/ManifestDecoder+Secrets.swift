import AirlockCore
import Secrets

extension ManifestDecoder {
    /// The fields of one `secrets:` entry.
    static let secretFields = ["name", "as", "audience", "ttl_seconds", "env"]

    /// Reads `secrets:`: each entry a store name, a delivery (`file`, `token`, `env`) and its options.
    static func secrets(_ value: JSONValue?, environment: [String: String], reader r: inout DocumentReader)
        -> [SecretDeclaration]
    {
        var declarations: [SecretDeclaration] = []
        var variables: Set<String> = []
        for (index, item) in r.array(value, "/secrets").enumerated() {
            let pointer = "/secrets/\(index)"
            guard let m = r.object(item, pointer, allowed: secretFields, required: ["name"]) else { continue }
            guard
                let name = r.string(
                    m, pointer, "name",
                    check: {
                        SecretStore.isValidName($0) ? nil : "must match [A-Za-z_][A-Za-z0-9_.-]{0,63} (a secret name)"
                    })
            else { continue }
            if declarations.contains(where: { $0.name == name }) {
                r.fail(pointer + "/name", "secret \(name) is declared twice")
                continue
            }
            let kind =
                r.string(m, pointer, "as") {
                    ["file", "token", "env"].contains($0) ? nil : "must be file, token or env"
                } ?? "file"
            func only(_ field: String, for kinds: String) {
                if m[field] != nil { r.fail(JSONPointer.appending(pointer, field), "only applies to as: \(kinds)") }
            }
            switch kind {
            case "token":
                only("env", for: "env")
                let audience = r.string(m, pointer, "audience") { $0.isEmpty ? "must not be empty" : nil }
                let ttl =
                    r.number(
                        m, pointer, "ttl_seconds", range: 1...Double(TokenIssuer.maximumTTLSeconds), integer: true
                    ).map { Int($0) } ?? TokenIssuer.defaultTTLSeconds
                declarations.append(
                    SecretDeclaration(name: name, delivery: .token(audience: audience, ttlSeconds: ttl)))
            case "env":
                only("audience", for: "token")
                only("ttl_seconds", for: "token")
                guard
                    let variable = r.string(
                        m, pointer, "env",
                        check: {
                            ToolManifestRules.isEnvironmentName($0)
                                ? nil : "\"\($0)\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"
                        })
                else {
                    if m["env"] == nil { r.fail(pointer, "as: env needs env: VARIABLE") }
                    continue
                }
                if environment[variable] != nil || variables.contains(variable) {
                    r.fail(pointer + "/env", "\(variable) is already set by this manifest")
                    continue
                }
                variables.insert(variable)
                declarations.append(SecretDeclaration(name: name, delivery: .environment(variable: variable)))
            default:
                for field in ["audience", "ttl_seconds", "env"] { only(field, for: field == "env" ? "env" : "token") }
                declarations.append(SecretDeclaration(name: name, delivery: .file))
            }
        }
        return declarations
    }
}
