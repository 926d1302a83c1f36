import AirlockCore
import Foundation
import Model
import Tools
import TracePostgres

/// The site's configuration, `AIRLOCK_HOME/site.yaml`, read once and whole by this one type:
///
/// ```yaml
/// datasets:                 # the read-only directories ${dataset:NAME} mounts
///   logs: /srv/airlock/data/logs
/// model_hosts: [models.internal]   # internal model hosts besides loopback (air-gap rule)
/// tool_calling: constrained        # native | constrained: how tools are offered to models
/// model_idle_seconds: 900          # a run-started model server stops after this long unused
/// internal_hosts:           # the only names a manifest's network.connect hosts resolve through
///   records.internal: 10.20.0.5
/// console_listen: [10.20.0.9]      # non-loopback addresses `airlock console --listen` may bind
/// console_peers: [ana, bob]        # accounts besides its own the console's unix socket admits
/// trace: postgres://airlock_worker@db.internal/airlock   # the shared trace (docs/scale.md);
///                           # default: the embedded AIRLOCK_HOME/trace.sqlite
/// ```
///
/// An unknown top-level key is an error, as in manifests and policies: a misspelt `model_host:`
/// must not silently leave the air-gap rule at its default. A missing file is an empty
/// configuration.
public struct SiteConfiguration: Sendable, Hashable {
    /// The top-level keys a site file may have.
    public static let keys = [
        "datasets", "model_hosts", "tool_calling", "model_idle_seconds", "internal_hosts", "console_listen",
        "console_peers", "trace",
    ]

    /// Dataset name → absolute host directory.
    public var datasets: [String: URL]
    /// Internal model host names or addresses besides loopback, lowercased.
    public var modelHosts: [String]
    /// The site's tool calling mode, or `nil` to let each model's default decide.
    public var toolCalling: ToolCallingMode?
    /// How long a model server a run started serves with no run using it, or `nil` for
    /// ``ModelRuntime/ModelBackground/defaultIdleSeconds``.
    public var modelIdleSeconds: Double?
    /// Internal service host name → numeric address: how a manifest's `network.connect` hosts
    /// resolve (there is no other way; no system DNS). Default empty: no tool can reach anything.
    public var internalHosts: [String: String]
    /// The numeric addresses beyond loopback `airlock console --listen` may bind (default none:
    /// the console is reachable from this host only).
    public var consoleListen: [String]
    /// The local accounts besides its own whose connections the console's unix socket admits, as
    /// the kernel names the peer (`SO_PEERCRED`); default none: only the console's own account.
    public var consolePeers: [String]
    /// Where runs are recorded: `postgres://…` or `sqlite:PATH`, or `nil` for the home's
    /// `trace.sqlite` (checked for its form here, opened by ``TraceLocation``).
    public var trace: String?

    /// Creates a configuration.
    public init(
        datasets: [String: URL] = [:], modelHosts: [String] = [], toolCalling: ToolCallingMode? = nil,
        modelIdleSeconds: Double? = nil, internalHosts: [String: String] = [:], consoleListen: [String] = [],
        consolePeers: [String] = [], trace: String? = nil
    ) {
        self.consoleListen = consoleListen
        self.consolePeers = consolePeers
        self.trace = trace
        self.datasets = datasets
        self.modelHosts = modelHosts
        self.toolCalling = toolCalling
        self.modelIdleSeconds = modelIdleSeconds
        self.internalHosts = internalHosts
    }

    /// Reads `url`; a missing file is an empty configuration.
    /// - Throws: ``RunsError`` `invalid-input` listing every problem with its JSON pointer and
    ///   line, `state` when the file cannot be read.
    public static func load(_ url: URL) throws(RunsError) -> SiteConfiguration {
        guard FileManager.default.fileExists(atPath: url.path) else { return SiteConfiguration() }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw RunsError(.state, "cannot read \(url.path)", cause: error)
        }
        return try parse(text, label: url.path)
    }

    /// Parses the text of a site file.
    /// - Parameters:
    ///   - text: the YAML.
    ///   - label: what the text is, for messages (its path).
    /// - Throws: ``RunsError`` `invalid-input` listing every problem.
    public static func parse(_ text: String, label: String) throws(RunsError) -> SiteConfiguration {
        // A file of nothing but comments is an empty site, as a missing one is.
        let content = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard content.contains(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else { return SiteConfiguration() }
        let document = try DocumentReader.parse(text) {
            RunsError(.invalidInput, "\(label): not valid YAML", problems: $0)
        }
        var reader = DocumentReader(document)
        var site = SiteConfiguration()
        switch document.value {
        case .object(let members):
            _ = reader.object(document.value, at: "", allowed: keys)
            site.datasets = datasets(members["datasets"], &reader)
            site.modelHosts = modelHosts(members["model_hosts"], &reader)
            site.internalHosts = internalHosts(members["internal_hosts"], &reader)
            site.consoleListen = consoleListen(members["console_listen"], &reader)
            site.consolePeers = consolePeers(members["console_peers"], &reader)
            if let mode = members["tool_calling"] {
                site.toolCalling = mode.stringValue.flatMap(ToolCallingMode.init(rawValue:))
                if site.toolCalling == nil { reader.fail("/tool_calling", "must be native or constrained") }
            }
            if let trace = members["trace"] {
                if let text = trace.stringValue, (try? TraceLocation(text)) != nil {
                    site.trace = text
                } else {
                    reader.fail("/trace", "must be postgres://USER@HOST[:PORT]/DATABASE or sqlite:PATH")
                }
            }
            if let idle = members["model_idle_seconds"] {
                var seconds: Double?
                switch idle {
                case .integer(let value): seconds = Double(value)
                case .number(let value): seconds = value
                default: seconds = nil
                }
                if let seconds, seconds > 0, seconds.isFinite {
                    site.modelIdleSeconds = seconds
                } else {
                    reader.fail("/model_idle_seconds", "must be a number of seconds above 0")
                }
            }
        default:
            reader.fail("", "must be a mapping of \(keys.joined(separator: ", "))")
        }
        guard reader.isEmpty else {
            let problems = reader.problems.lines
            throw RunsError(
                .invalidInput,
                "\(label): \(problems.count) problem(s)\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
        }
        return site
    }

    private static func datasets(_ value: JSONValue?, _ reader: inout DocumentReader) -> [String: URL] {
        guard let value else { return [:] }
        guard let members = value.objectValue else {
            reader.fail("/datasets", "must be a mapping of dataset names to absolute paths")
            return [:]
        }
        var out: [String: URL] = [:]
        for name in members.keys.sorted() {
            let pointer = JSONPointer.appending("/datasets", name)
            guard PathVariable.isDatasetName(name) else {
                reader.fail(pointer, "dataset name must be letters, digits, '_' or '-'")
                continue
            }
            guard let path = members[name]?.stringValue, path.hasPrefix("/"), !path.utf8.contains(0) else {
                reader.fail(pointer, "must be an absolute path")
                continue
            }
            let components = path.split(separator: "/")
            guard !components.contains(".."), !components.contains(".") else {
                reader.fail(pointer, "must not contain . or .. components")
                continue
            }
            out[name] = URL(fileURLWithPath: path, isDirectory: true)
        }
        return out
    }

    private static func internalHosts(_ value: JSONValue?, _ reader: inout DocumentReader) -> [String: String] {
        guard let value else { return [:] }
        guard let members = value.objectValue else {
            reader.fail("/internal_hosts", "must be a mapping of host names to numeric addresses")
            return [:]
        }
        var out: [String: String] = [:]
        for name in members.keys.sorted() {
            let pointer = JSONPointer.appending("/internal_hosts", name)
            guard NetworkEndpoint.isHostName(name) else {
                reader.fail(
                    pointer,
                    "must be a host name (lowercase labels of a-z, 0-9 and '-' joined by dots; not an address, not localhost)"
                )
                continue
            }
            guard let address = members[name]?.stringValue, NetworkEndpoint.isAddress(address) else {
                reader.fail(pointer, "must be a numeric IPv4 or IPv6 address (names are not resolved: there is no DNS)")
                continue
            }
            out[name] = address
        }
        return out
    }

    private static func consoleListen(_ value: JSONValue?, _ reader: inout DocumentReader) -> [String] {
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            reader.fail("/console_listen", "must be a list of numeric addresses")
            return []
        }
        var out: [String] = []
        for (index, entry) in list.enumerated() {
            guard let address = entry.stringValue, NetworkEndpoint.isAddress(address) else {
                reader.fail(
                    "/console_listen/\(index)", "must be a numeric IPv4 or IPv6 address (names are not resolved)")
                continue
            }
            out.append(address)
        }
        return out
    }

    private static func consolePeers(_ value: JSONValue?, _ reader: inout DocumentReader) -> [String] {
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            reader.fail("/console_peers", "must be a list of account names")
            return []
        }
        var out: [String] = []
        for (index, entry) in list.enumerated() {
            guard let name = entry.stringValue, !name.isEmpty, name.utf8.count <= 32, Int(name) == nil,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else {
                reader.fail(
                    "/console_peers/\(index)",
                    "must be an account name (letters, digits, '.', '_', '-'; at most 32; not a number)")
                continue
            }
            out.append(name)
        }
        return out
    }

    private static func modelHosts(_ value: JSONValue?, _ reader: inout DocumentReader) -> [String] {
        guard let value else { return [] }
        guard let list = value.arrayValue else {
            reader.fail("/model_hosts", "must be a list of host names")
            return []
        }
        var out: [String] = []
        for (index, entry) in list.enumerated() {
            guard let host = entry.stringValue, !host.isEmpty else {
                reader.fail("/model_hosts/\(index)", "must be a host name")
                continue
            }
            out.append(host.lowercased())
        }
        return out
    }
}
