import AirlockCore

/// A variable a manifest may use in mounts, argv literals and environment values.
///
/// `${workspace}` is the run's scratch directory (host `AIRLOCK_HOME/workspaces/<id>`, inside
/// `/workspace`); `${dataset:NAME}` is a named read-only data directory from the site
/// configuration (inside `/data/NAME`).
public enum PathVariable: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The run's scratch directory.
    case workspace
    /// A named dataset directory.
    case dataset(String)

    /// Where the variable's directory appears inside the sandbox.
    public var insidePath: String {
        switch self {
        case .workspace: "/workspace"
        case .dataset(let name): "/data/\(name)"
        }
    }

    /// `${workspace}` or `${dataset:NAME}`.
    public var description: String {
        switch self {
        case .workspace: "${workspace}"
        case .dataset(let name): "${dataset:\(name)}"
        }
    }

    /// Parses the text between `${` and `}`.
    /// - Returns: the variable, or a message naming what is wrong.
    static func parse(_ body: String) -> Result<PathVariable, TemplateError> {
        if body == "workspace" { return .success(.workspace) }
        if body.hasPrefix("dataset:") {
            let name = String(body.dropFirst("dataset:".count))
            guard isDatasetName(name) else {
                return .failure(TemplateError("dataset name \"\(name)\" must be letters, digits, '_' or '-'"))
            }
            return .success(.dataset(name))
        }
        return .failure(TemplateError("unknown variable ${\(body)} (expected ${workspace} or ${dataset:NAME})"))
    }

    /// Whether `name` can name a dataset: 1–64 of `A-Z a-z 0-9 _ -`.
    public static func isDatasetName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
            }
    }
}

/// Why a template string was refused (wrapped into a ``FieldProblem`` by the decoder).
struct TemplateError: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}
