import AirlockCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands in on fd 3, answers out on fd 4), started with a command
/// of its own before it in the same shell: the tests put both in a network namespace of their
/// own whose only interface is loopback, so the page can reach the console and nothing else.
final class Browser {
    /// Where screenshots go: kept as test artefacts under .build, never committed.
    static let artefacts = SampleSite.root.appendingPathComponent(".build/test-artefacts/console")

    /// Whether the browser and `unshare` are installed (tools/install-deps installs them).
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    }

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let state = Locked<(buffer: [UInt8], answers: [Int: JSONValue], events: [JSONValue])>(([], [:], []))
    private var nextID = 0
    private var session = ""
    let profile: URL

    /// Starts `before` (shell commands that must not block: start a server with `&`) and then the
    /// browser, both in a new network namespace with loopback up; `ip -o link` inside it is
    /// written to `links`.
    init(before: String, environment: [String: String], links: URL) throws {
        profile = try CLI.temporaryDirectory("airlock-browser-profile")
        let script = """
            ip link set lo up && ip -o link > '\(links.path)' || exit 1
            \(before)
            exec /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
              --disable-background-networking --disable-component-update --disable-sync --window-size=1280,900 \
              --remote-debugging-pipe --user-data-dir='\(profile.path)' about:blank 3<&0 4>&1 0</dev/null 1>&2
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--net", "--map-root-user", "--", "/bin/sh", "-c", script]
        process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": profile.path].merging(
            environment
        ) { $1 }
        process.standardInput = input
        process.standardOutput = output
        // The browser's own log, kept beside the screenshots for when a test fails.
        try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
        let log = Self.artefacts.appendingPathComponent("browser.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        let state = self.state
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            state.withLock { state in
                state.buffer += data
                while let end = state.buffer.firstIndex(of: 0) {
                    let message = Array(state.buffer[..<end])
                    state.buffer.removeSubrange(...end)
                    guard let value = try? JSONParser().parse(String(decoding: message, as: UTF8.self)) else {
                        continue
                    }
                    if let id = value["id"]?.integerValue {
                        state.answers[Int(id)] = value
                    } else {
                        state.events.append(value)
                    }
                }
            }
        }
        try process.run()
        let target = try command("Target.createTarget", ["url": "about:blank"], inSession: false)
        let attached = try command(
            "Target.attachToTarget", ["targetId": target["targetId"] ?? .null, "flatten": true], inSession: false)
        session = try #require(attached["sessionId"]?.stringValue)
        for domain in ["Page", "Network", "Runtime", "Log"] { _ = try command("\(domain).enable") }
    }

    deinit { close() }

    /// Closes the browser (and with it the namespace's other processes' reason to be).
    func close() {
        if process.isRunning {
            _ = try? command("Browser.close", inSession: false, patience: 10)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        output.fileHandleForReading.readabilityHandler = nil
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends a command and waits for its answer's `result`.
    @discardableResult
    func command(
        _ method: String, _ params: [String: JSONValue] = [:], inSession: Bool = true, patience: TimeInterval = 60
    ) throws -> JSONValue {
        nextID += 1
        let id = nextID
        var message: [String: JSONValue] = [
            "id": .integer(Int64(id)), "method": .string(method), "params": .object(params),
        ]
        if inSession { message["sessionId"] = .string(session) }
        input.fileHandleForWriting.write(Data((JSONValue.object(message).canonicalString + "\0").utf8))
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            if let answer = state.withLock({ $0.answers.removeValue(forKey: id) }) {
                if let error = answer["error"] { throw BrowserError(text: "\(method): \(error.canonicalString)") }
                return answer["result"] ?? .null
            }
            guard process.isRunning else { throw BrowserError(text: "the browser ended during \(method)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw BrowserError(text: "no answer to \(method) within \(patience) s")
    }

    /// The events received so far of `method`.
    func events(_ method: String) -> [JSONValue] {
        state.withLock { $0.events.filter { $0["method"]?.stringValue == method }.compactMap { $0["params"] } }
    }

    /// Waits until `method` has been received more than `count` times.
    func waitForEvent(_ method: String, beyond count: Int, patience: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            if events(method).count > count { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw BrowserError(text: "no \(method) within \(patience) s")
    }

    /// Runs `javascript` in the page and returns its value.
    @discardableResult
    func evaluate(_ javascript: String) throws -> JSONValue {
        let result = try command("Runtime.evaluate", ["expression": .string(javascript), "returnByValue": true])
        if let exception = result["exceptionDetails"] {
            throw BrowserError(text: "\(javascript): \(exception.canonicalString)")
        }
        return result["result"]?["value"] ?? .null
    }

    /// Opens `url` and waits for its load.
    func open(_ url: String) throws {
        try loading { _ = try command("Page.navigate", ["url": .string(url)]) }
    }

    /// Does `action` (a click that submits, a navigation) and waits for the page it loads.
    func loading(_ action: () throws -> Void) throws {
        let loads = events("Page.loadEventFired").count
        try action()
        try waitForEvent("Page.loadEventFired", beyond: loads)
    }

    /// Clicks the element `selector` names and waits for the page that loads.
    func submit(_ selector: String) throws {
        try loading { try evaluate("document.querySelector(\(JSONValue.string(selector).canonicalString)).click()") }
    }

    /// The page's text.
    func text(_ selector: String = "body") throws -> String {
        try evaluate(
            "(document.querySelector(\(JSONValue.string(selector).canonicalString)) || {innerText: ''}).innerText"
        ).stringValue ?? ""
    }

    /// Saves a PNG of the page as `name`.png under ``artefacts`` and returns its path.
    @discardableResult
    func screenshot(_ name: String) throws -> URL {
        let shot = try command("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        let data = try #require(Data(base64Encoded: shot["data"]?.stringValue ?? ""))
        try FileManager.default.createDirectory(at: Self.artefacts, withIntermediateDirectories: true)
        let url = Self.artefacts.appendingPathComponent(name + ".png")
        try data.write(to: url)
        return url
    }

    /// Every URL the page requested.
    var requestedURLs: [String] {
        events("Network.requestWillBeSent").compactMap { $0["request"]?["url"]?.stringValue }
    }

    /// Every console or log message (CSP violations are reported there).
    var logMessages: [String] {
        events("Log.entryAdded").compactMap { $0["entry"]?["text"]?.stringValue }
            + events("Runtime.consoleAPICalled").map { $0.canonicalString }
    }
}

struct BrowserError: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}
