import Foundation

extension Doctor {
    /// One file's mode and owner, as `lstat` sees it (a symbolic link is reported as one).
    struct FileFacts {
        var path: String
        var mode: Int
        var owner: UInt32
        var type: FileAttributeType

        init?(_ path: String) {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            self.path = path
            mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o7777
            owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value ?? UInt32.max
            type = attributes[.type] as? FileAttributeType ?? .typeUnknown
        }

        /// `PATH mode 0600 owner 0 (file)`.
        var description: String {
            let kind =
                switch type {
                case .typeDirectory: "directory"
                case .typeRegular: "file"
                case .typeSymbolicLink: "symbolic link"
                default: type.rawValue
                }
            return "\(path) mode \(Self.octal(mode)) owner \(owner) (\(kind))"
        }

        static func octal(_ mode: Int) -> String {
            let digits = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// **key-permissions**: every file under `keys/` is 0600 or stricter and owned by the user;
    /// `secrets/` is 0700 and its files 0600 when present; `AIRLOCK_HOME` is not group- or
    /// world-writable.
    public func keyPermissions() -> DoctorCheck {
        let id = "key-permissions"
        let title = "keys and the secret store are private to the user; AIRLOCK_HOME is not writable by others"
        let user = UInt32(geteuid())
        var evidence: [String] = []
        var problems: [String] = []
        var remedies: [String] = []

        func require(_ facts: FileFacts, maxMode: Int, directory: Bool) {
            var wrong: [String] = []
            if directory ? facts.type != .typeDirectory : facts.type != .typeRegular {
                wrong.append("is a \(facts.type == .typeSymbolicLink ? "symbolic link" : facts.type.rawValue)")
            }
            if facts.mode & ~maxMode & 0o7777 != 0 {
                wrong.append("mode \(FileFacts.octal(facts.mode)) allows more than \(FileFacts.octal(maxMode))")
                remedies.append("chmod \(String(maxMode, radix: 8)) \(facts.path)")
            }
            if facts.owner != user {
                wrong.append("owned by uid \(facts.owner), not \(user)")
                remedies.append("chown \(user) \(facts.path)")
            }
            evidence.append(facts.description + (wrong.isEmpty ? "" : ": " + wrong.joined(separator: ", ")))
            if !wrong.isEmpty { problems.append("\(facts.path) \(wrong.joined(separator: ", "))") }
        }

        if let home = FileFacts(configuration.home.path) {
            let writable = home.mode & 0o022 != 0
            evidence.append(home.description + (writable ? ": group or others may write" : ""))
            if writable {
                problems.append("\(home.path) is writable by group or others")
                remedies.append("chmod go-w \(home.path)")
            }
        } else {
            problems.append("\(configuration.home.path) cannot be read")
        }
        for (directory, fileMode, directoryMode) in [
            (configuration.keys, 0o600, 0o700), (configuration.secrets, 0o600, 0o700),
        ] {
            guard let facts = FileFacts(directory.path) else {
                evidence.append("\(directory.path): absent")
                continue
            }
            require(facts, maxMode: directoryMode, directory: true)
            guard facts.type == .typeDirectory else { continue }
            guard let entries = FileManager.default.enumerator(atPath: directory.path) else {
                problems.append("\(directory.path) cannot be listed")
                continue
            }
            for case let relative as String in entries {
                guard let entry = FileFacts(directory.appendingPathComponent(relative).path) else { continue }
                require(
                    entry, maxMode: entry.type == .typeDirectory ? directoryMode : fileMode,
                    directory: entry.type == .typeDirectory)
            }
        }
        guard problems.isEmpty else {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: problems.joined(separator: "; "), evidence: evidence,
                remedy: remedies.isEmpty ? "make them private to the user" : remedies.joined(separator: "; "))
        }
        let files = evidence.filter { $0.hasSuffix("(file)") }.count
        let keys = files == 0 ? "no key or secret file yet" : "\(files) key and secret files 0600 or stricter"
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "\(keys), owned by uid \(user); AIRLOCK_HOME not writable by others",
            evidence: evidence)
    }
}
