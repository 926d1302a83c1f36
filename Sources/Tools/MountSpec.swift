import AirlockCore

/// One mount a manifest asks for: a variable's directory, or a directory below it, read-only or
/// read-write.
///
/// Written `${workspace}`, `${workspace}/notes`, `${dataset:logs}`, `${dataset:logs}/2026`. There
/// are no absolute host paths in manifests (the sandbox already provides `/usr`, `/lib`, `/bin`
/// and a minimal `/etc`), and no `.`, `..`, empty or NUL components; datasets are never writable.
public struct MountSpec: Sendable, Hashable {
    /// The directory the mount starts from.
    public var variable: PathVariable
    /// Components below the variable's directory (empty for the directory itself).
    public var subpath: [String]
    /// Whether the tool may write through it.
    public var writable: Bool

    /// The path inside the sandbox.
    public var insidePath: String {
        ([variable.insidePath] + subpath).joined(separator: "/")
    }

    /// The manifest spelling, `${dataset:logs}/2026`.
    public var text: String {
        ([variable.description] + subpath).joined(separator: "/")
    }

    /// Parses a mount entry.
    static func parse(_ text: String, writable: Bool) -> Result<MountSpec, TemplateError> {
        guard text.hasPrefix("${"), let close = text.firstIndex(of: "}") else {
            return .failure(
                TemplateError(
                    "must start with ${workspace} or ${dataset:NAME}; host paths cannot be mounted directly"))
        }
        let variable: PathVariable
        switch PathVariable.parse(String(text[text.index(text.startIndex, offsetBy: 2)..<close])) {
        case .success(let v): variable = v
        case .failure(let error): return .failure(error)
        }
        let rest = text[text.index(after: close)...]
        var subpath: [String] = []
        if !rest.isEmpty {
            guard rest.utf8.first == 0x2F else {
                return .failure(TemplateError("\(variable) must be followed by nothing or /SUBDIRECTORY"))
            }
            // Split and compared as bytes, as the kernel reads the path: a `/` followed by a
            // combining mark is one Character, and would hide a `..` from a split on Characters.
            for bytes in Array(rest.utf8.dropFirst()).split(separator: 0x2F, omittingEmptySubsequences: false) {
                let component = String(decoding: bytes, as: UTF8.self)
                guard !bytes.isEmpty, !bytes.elementsEqual([0x2E]), !bytes.elementsEqual([0x2E, 0x2E]),
                    !bytes.contains(0), !component.contains("${")
                else {
                    return .failure(
                        TemplateError(
                            "component \"\(component)\" is not allowed (no '..', '.', empty, NUL or variables)"))
                }
                subpath.append(component)
            }
        }
        if writable, case .dataset = variable {
            return .failure(TemplateError("\(variable) is read-only; datasets cannot be mounted read-write"))
        }
        return .success(MountSpec(variable: variable, subpath: subpath, writable: writable))
    }
}
