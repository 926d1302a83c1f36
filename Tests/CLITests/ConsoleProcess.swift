import Foundation
import Synchronization
import Testing

/// `airlock console` (or a launcher around it) in the background, its stdout read as it comes:
/// the address it listens on and each sign-in token it prints.
final class ConsoleProcess {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let printed = Locked("")
    private let errors = Locked("")

    /// Starts `airlock console ARGS` with `environment`; with a `launcher`, through it.
    init(_ arguments: [String], environment: [String: String], launcher: [String] = []) throws {
        CLI.prepare(process, ["console"] + arguments, environment: environment, launcher: launcher)
        process.standardOutput = out
        process.standardError = err
        let printed = self.printed
        let errors = self.errors
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            printed.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            errors.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    deinit { stop() }

    /// Everything printed on stdout and stderr so far.
    var stdout: String { printed.withLock { $0 } }
    var stderr: String { errors.withLock { $0 } }

    /// Stops the console (SIGTERM) and waits.
    @discardableResult func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    /// Waits until a stdout line starts with `prefix` (the `skip`-th such line, counting from 0)
    /// and returns the rest of it.
    func line(after prefix: String, skip: Int = 0, patience: TimeInterval = 60) throws -> String {
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            let lines = stdout.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            if lines.count > skip { return String(lines[skip].dropFirst(prefix.count)) }
            try #require(process.isRunning, "the console ended: \(stdout)\(stderr)")
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("the console printed no \(prefix) within \(patience) s: \(stdout)\(stderr)")
        throw CancellationError()
    }

    /// `http://127.0.0.1:PORT`, once it listens.
    func origin() throws -> String {
        let rest = try line(after: "console: listening on ")
        return String(rest.prefix { $0 != " " })
    }

    /// The `index`-th sign-in token (each use prints the next).
    func token(_ index: Int = 0) throws -> String { try line(after: "sign-in token (one use): ", skip: index) }
}

/// One HTTP exchange through curl, as a browser-less client would make it.
struct HTTPExchange {
    var status: Int
    var headers: [String: String]
    var body: String

    /// `METHOD origin+path`, with a form body, the session cookie and another `Host` if given;
    /// curl started through `launcher` (`setpriv --reuid=…`: another account) if given.
    static func send(
        _ method: String, _ url: String, form: [(String, String)] = [], cookie: String? = nil, host: String? = nil,
        unixSocket: String? = nil, launcher: [String] = []
    ) throws -> HTTPExchange {
        var arguments = ["-s", "-i", "-X", method, "--max-time", "60"]
        if let unixSocket { arguments += ["--unix-socket", unixSocket] }
        for (name, value) in form { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        if let cookie { arguments += ["-H", "Cookie: airlock_console=\(cookie)"] }
        if let host { arguments += ["-H", "Host: \(host)"] }
        let result = try CLI.run(
            arguments + [url], launcher: launcher, executable: URL(fileURLWithPath: "/usr/bin/curl"))
        try #require(result.status == 0, "curl \(method) \(url): \(result.stderr)")
        let text = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        let head = parts.first?.split(separator: "\n") ?? []
        let status = head.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return HTTPExchange(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\n\n"))
    }

    /// The session cookie a sign-in set.
    var sessionCookie: String? {
        headers["set-cookie"].flatMap { cookie in
            cookie.split(separator: ";").first.map { String($0.dropFirst("airlock_console=".count)) }
        }
    }

    /// The value of the hidden `csrf` field of the page.
    var csrf: String? {
        guard let range = body.range(of: #"name="csrf" value=""#) else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A value shared with a pipe's reading handler (a class, so that the handler holds a reference).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
