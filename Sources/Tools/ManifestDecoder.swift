import AirlockCore
import Foundation
import Sandbox

/// Reads a ``ToolManifest`` from YAML or JSON by hand, so that every unknown field, wrong type and
/// bad value is reported with its JSON pointer and line, all at once.
public struct ManifestDecoder: Sendable {
    /// The longest description accepted, in characters. Default 2048.
    public var maxDescriptionLength: Int
    /// The largest `output.maxBytes` accepted. Default 1 MiB (the sandbox's per-stream capture).
    public var maxOutputBytes: Int

    /// Creates a decoder.
    /// - Parameters:
    ///   - maxDescriptionLength: the longest description accepted (default 2048 characters).
    ///   - maxOutputBytes: the largest `output.maxBytes` accepted (default 1 MiB).
    public init(maxDescriptionLength: Int = 2048, maxOutputBytes: Int = 1 << 20) {
        self.maxDescriptionLength = maxDescriptionLength
        self.maxOutputBytes = maxOutputBytes
    }

    /// The top-level fields a manifest may have.
    public static let fields = [
        "name", "version", "description", "owner", "executable", "argv", "stdin", "input", "output", "filesystem",
        "environment", "limits", "seccomp", "risk", "data", "threats", "secrets", "network", "mcp",
    ]

    /// Decodes manifest text (YAML; JSON is YAML too).
    /// - Throws: ``ToolsError`` (`invalid-manifest`) listing every problem.
    public func decode(text: String) throws(ToolsError) -> ToolManifest {
        try decode(Self.parseYAML(text, label: "manifest"))
    }

    /// Decodes a parsed YAML manifest; problems carry its source lines.
    /// - Throws: ``ToolsError`` (`invalid-manifest`) listing every problem.
    public func decode(_ yaml: YAMLDocument) throws(ToolsError) -> ToolManifest {
        try decode(yaml.value, source: yaml)
    }

    /// Decodes a manifest document (as the registry stores it; problems carry no lines).
    /// - Throws: ``ToolsError`` (`invalid-manifest`) listing every problem.
    public func decode(_ document: JSONValue) throws(ToolsError) -> ToolManifest {
        try decode(document, source: nil)
    }

    /// Parses YAML text; a syntax error becomes one problem with its line.
    /// - Parameter label: what the text is, for the message (`manifest`, a file path).
    static func parseYAML(_ text: String, label: String) throws(ToolsError) -> YAMLDocument {
        try DocumentReader.parse(text) { ToolsError(.invalidManifest, "\(label): not valid YAML", problems: $0) }
    }

    func decode(_ document: JSONValue, source: YAMLDocument?) throws(ToolsError) -> ToolManifest {
        if MCPServerManifest.isServer(document) {
            throw ToolsError(
                .invalidManifest,
                "manifest: kind: mcp names an MCP server, whose tools are listed when it is registered (`airlock tools add`), not a tool",
                problems: [
                    FieldProblem(
                        pointer: "/kind", line: source?.line(for: "/kind"), message: "a tool manifest has no kind")
                ])
        }
        var r = DocumentReader(source)
        let root = r.object(
            document, "", allowed: Self.fields,
            required: ["name", "version", "description", "owner", "executable", "input", "risk"])

        let name = r.string(root, "", "name") {
            ToolManifestRules.isToolName($0)
                ? nil
                : "must be lowercase dotted segments such as logs.search (each segment a-z, 0-9, '_' or '-', starting with a letter; at most 64 characters)"
        }
        let version = r.string(root, "", "version") {
            ToolManifestRules.parseVersion($0) == nil ? "must be MAJOR.MINOR.PATCH, e.g. 1.0.0" : nil
        }
        let description = r.string(root, "", "description") { [maxDescriptionLength] in
            $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                ? "must not be empty"
                : $0.count > maxDescriptionLength ? "must be at most \(maxDescriptionLength) characters" : nil
        }
        let owner = r.string(root, "", "owner") {
            $0.trimmingCharacters(in: .whitespaces).isEmpty ? "must not be empty" : nil
        }

        // executable
        let exe = r.object(root?["executable"], "/executable", allowed: ["path", "sha256"], required: ["path"])
        if let exe, exe["sha256"] == nil {
            r.fail(
                "/executable",
                "missing required field \"sha256\" (run `airlock tools add --pin FILE` to compute and write it)")
        }
        let path = r.string(exe, "/executable", "path") {
            $0.isEmpty || $0.utf8.contains(0) ? "must be a non-empty path without NUL" : nil
        }
        let sha = r.string(exe, "/executable", "sha256") {
            $0.count == 64 && Hex.decode($0) != nil && $0 == $0.lowercased()
                ? nil
                : "must be 64 lowercase hex digits (run `airlock tools add --pin FILE` to write it)"
        }

        // input schema
        var schema: JSONSchema?
        if let input = root?["input"] {
            if input["type"] != .string("object") {
                r.fail("/input/type", "the input schema must declare type: object (tool arguments are an object)")
            }
            switch JSONSchema.compile(input) {
            case .success(let compiled): schema = compiled
            case .failure(let failure):
                for p in failure.problems { r.fail("/input" + p.pointer, p.message) }
            }
        }
        let properties = root?["input"]?["properties"]?.objectValue ?? [:]

        // output
        let out = r.object(root?["output"], "/output", allowed: ["format", "maxBytes"], required: [])
        let format = r.enumeration(out, "/output", "format", OutputFormat.self) ?? .text
        let maxBytes =
            r.size(out, "/output", "maxBytes", range: 1...UInt64(maxOutputBytes)).map(Int.init)
            ?? ToolManifest.Output.defaultMaxBytes

        // filesystem
        var mounts: [MountSpec] = []
        let fs = r.object(
            root?["filesystem"], "/filesystem", allowed: ["readOnly", "readWrite"], required: [])
        for (key, writable) in [("readOnly", false), ("readWrite", true)] {
            for (index, entry) in r.strings(fs, "/filesystem", key).enumerated() {
                let pointer = "/filesystem/\(key)/\(index)"
                switch MountSpec.parse(entry, writable: writable) {
                case .success(let mount):
                    if mounts.contains(where: { $0.insidePath == mount.insidePath }) {
                        r.fail(pointer, "\(entry) is mounted twice")
                    } else {
                        mounts.append(mount)
                    }
                case .failure(let error): r.fail(pointer, error.message)
                }
            }
        }
        let mounted = Set(mounts.filter(\.subpath.isEmpty).map(\.variable))
        func checkVariables(_ template: TextTemplate, _ pointer: String) {
            for variable in template.variables where !mounted.contains(variable) {
                r.fail(pointer, "uses \(variable), which is not mounted (add it under filesystem)")
            }
        }

        // argv
        var argv: [ArgvElement] = []
        var afterSeparator = false
        for (index, element) in r.array(root?["argv"], "/argv").enumerated() {
            let pointer = "/argv/\(index)"
            if case .string(let text) = element {
                switch TextTemplate.parse(text) {
                case .success(let template):
                    checkVariables(template, pointer)
                    argv.append(.literal(template))
                    if text == "--" { afterSeparator = true }
                case .failure(let error): r.fail(pointer, error.message)
                }
                continue
            }
            guard let m = r.object(element, pointer, allowed: ["arg", "option", "flag"], required: ["arg"]) else {
                continue
            }
            guard let arg = r.string(m, pointer, "arg", check: { _ in nil }) else { continue }
            let argType = properties[arg]?["type"]
            if properties[arg] == nil {
                r.fail(pointer + "/arg", "\"\(arg)\" is not a property of the input schema")
            }
            switch (m["option"], m["flag"]) {
            case (nil, nil):
                if afterSeparator {
                    argv.append(.positional(argument: arg))
                } else {
                    r.fail(
                        pointer,
                        "a positional argument must come after a literal \"--\" (or use option: --NAME for --NAME=VALUE), so that no value can be read as an option"
                    )
                }
            case (_?, nil):
                if let option = r.string(
                    m, pointer, "option",
                    check: { ArgvElement.isOptionName($0) ? nil : "must be --NAME (letters, digits, '-', '_')" })
                {
                    argv.append(.option(name: option, argument: arg))
                }
            case (nil, _?):
                if let flag = r.string(
                    m, pointer, "flag",
                    check: { ArgvElement.isOptionName($0) ? nil : "must be --NAME (letters, digits, '-', '_')" })
                {
                    if properties[arg] != nil && argType != .string("boolean") {
                        r.fail(pointer + "/arg", "a flag needs a property of type boolean; \"\(arg)\" is not")
                    }
                    argv.append(.flag(name: flag, argument: arg))
                }
            case (_?, _?):
                r.fail(pointer, "use either option or flag, not both")
            }
        }

        // stdin
        var argumentsOnStdin = false
        if let stdin = root?["stdin"] {
            switch stdin {
            case .string("arguments"): argumentsOnStdin = true
            case .string("none"): break
            default: r.fail("/stdin", "must be none or arguments")
            }
        }

        // environment
        var environment: [String: String] = [:]
        if let env = r.object(root?["environment"], "/environment", allowed: nil, required: []) {
            for key in env.keys.sorted() {
                let pointer = JSONPointer.appending("/environment", key)
                if !ToolManifestRules.isEnvironmentName(key) {
                    r.fail(pointer, "\"\(key)\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
                }
                guard let value = r.string(env, "/environment", key, check: { _ in nil }) else { continue }
                switch TextTemplate.parse(value) {
                case .success(let template):
                    checkVariables(template, pointer)
                    environment[key] = template.expanded
                case .failure(let error): r.fail(pointer, error.message)
                }
            }
        }

        // limits
        let lim = r.object(
            root?["limits"], "/limits", allowed: ["timeoutSeconds", "cpuSeconds", "memory", "processes", "fileSize"],
            required: [])
        var limits = ToolLimits()
        if let t = r.number(lim, "/limits", "timeoutSeconds", range: 0.1...3600) { limits.timeoutSeconds = t }
        if let c = r.number(lim, "/limits", "cpuSeconds", range: 1...3600, integer: true) { limits.cpuSeconds = Int(c) }
        if let m = r.size(lim, "/limits", "memory", range: (16 << 20)...(64 << 30)) { limits.memoryBytes = m }
        if let p = r.number(lim, "/limits", "processes", range: 1...4096, integer: true) { limits.processes = Int(p) }
        if let f = r.size(lim, "/limits", "fileSize", range: 0...(64 << 30)) { limits.fileSizeBytes = f }

        // seccomp
        var groups: [SyscallGroup] = []
        for (index, text) in r.strings(root, "", "seccomp").enumerated() {
            if let group = SyscallGroup(rawValue: text) {
                groups.append(group)
            } else {
                r.fail(
                    "/seccomp/\(index)",
                    "unknown syscall group \"\(text)\" (known: \(SyscallGroup.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
        }

        // risk, data labels, threats
        let risk = r.enumeration(root, "", "risk", RiskLevel.self)
        let data = r.object(root?["data"], "/data", allowed: ["reads", "output"], required: [])
        var labels: [String: [String]] = [:]
        for key in ["reads", "output"] {
            labels[key] = r.strings(data, "/data", key)
            for (index, label) in (labels[key] ?? []).enumerated() where !ToolManifestRules.isLabel(label) {
                r.fail("/data/\(key)/\(index)", "label \"\(label)\" must be lowercase letters, digits and '-'")
            }
        }
        let threats = r.strings(root, "", "threats")
        for (index, tag) in threats.enumerated() where !ThreatTag.isValid(tag) {
            r.fail(
                "/threats/\(index)",
                "unknown threat tag \"\(tag)\" (see docs/threats.md: maestro:L1–L7, asi:01–10, nhi:01–10)")
        }

        let secrets = Self.secrets(root?["secrets"], environment: environment, reader: &r)
        let network = Self.network(root?["network"], reader: &r)
        let mcp = Self.mcpBinding(root?["mcp"], reader: &r)

        guard r.all.isEmpty, let name, let version, let description, let owner, let path, let sha, let schema,
            let risk
        else {
            let label = name.map { "manifest \($0)" } ?? "manifest"
            let count = max(r.all.count, 1)
            throw ToolsError(
                .invalidManifest, "\(label): \(count) problem\(count == 1 ? "" : "s")", problems: r.all)
        }
        return ToolManifest(
            name: name, version: version, description: description, owner: owner,
            executable: .init(path: path, sha256: sha), argv: argv, argumentsOnStdin: argumentsOnStdin,
            input: schema, output: .init(format: format, maxBytes: maxBytes), mounts: mounts,
            environment: environment, limits: limits, syscallGroups: groups, risk: risk,
            readsLabels: labels["reads"] ?? [], outputLabels: labels["output"] ?? [], threats: threats,
            document: document, secrets: secrets, network: network, mcp: mcp)
    }
}
