import AirlockCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `airlock` run on a real pseudo-terminal, as an analyst at a terminal runs it: Python's
/// `pty` module forks it with the terminal as its controlling one, waits for text (or a file) to
/// appear, then types keys (`\u{03}` is Ctrl-C: the terminal driver turns it into SIGINT for the
/// foreground process group, exactly as at a real terminal).
enum TerminalSession {
    /// One step: wait until `text` appears in the output after the previous step (or `file`
    /// exists), then type `keys`.
    struct Step {
        var text: String?
        var file: String?
        var keys: String
    }

    /// What the session saw.
    struct Result {
        /// The exit code as a shell reports it (128 + N for a signal N).
        var status: Int32
        /// Everything written to the terminal, control sequences included.
        var output: String
        /// Whether a step's text never appeared (the session was then ended).
        var missed: Bool
    }

    /// The driver: a JSON spec on argv[1], a JSON result on stdout. A process still running at the
    /// deadline is killed, so a test never hangs.
    static let driver = #"""
        import json, os, pty, select, signal, sys, time
        spec = json.load(open(sys.argv[1]))
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        out = b""
        deadline = time.time() + spec["timeout"]
        def read(wait):
            global out
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                return True
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            out += data
            return bool(data)
        missed = False
        mark = 0
        for step in spec["steps"]:
            def seen():
                if step.get("text") is not None:
                    return step["text"].encode() in out[mark:]
                return os.path.exists(step["file"])
            open_ = True
            while not seen() and time.time() < deadline and open_:
                open_ = read(0.05)
            if not seen():
                missed = True
                break
            mark = len(out)
            time.sleep(0.2)
            os.write(fd, step["keys"].encode())
        while time.time() < deadline and read(0.1):
            pass
        done, status = os.waitpid(pid, os.WNOHANG)
        while done == 0 and time.time() < deadline:
            time.sleep(0.02)
            done, status = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            missed = True
        print(json.dumps({"status": os.waitstatus_to_exitcode(status) if not os.WIFSIGNALED(status) else 128 + os.WTERMSIG(status),
                          "output": out.decode("utf-8", "replace"), "missed": missed}))
        """#

    /// Runs `airlock ARGS` on a terminal through `steps`.
    /// - Parameter timeout: the most the whole session may take (generous; it ends earlier when
    ///   the program exits).
    static func run(
        _ arguments: [String], environment: [String: String], steps: [Step], timeout: Double = 60
    ) throws -> Result {
        let directory = try CLI.temporaryDirectory("airlock-pty")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("drive.py")
        try Data(driver.utf8).write(to: script)
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "TERM": "xterm"]
        for (k, v) in environment { env[k] = v }
        let spec: JSONValue = [
            "argv": .array(([CLI.binary.path] + arguments).map(JSONValue.string)),
            "env": .object(env.mapValues(JSONValue.string)),
            "steps": .array(
                steps.map { step in
                    var object: [String: JSONValue] = ["keys": .string(step.keys)]
                    if let text = step.text { object["text"] = .string(text) }
                    if let file = step.file { object["file"] = .string(file) }
                    return .object(object)
                }),
            "timeout": .number(timeout),
        ]
        let specFile = directory.appendingPathComponent("spec.json")
        try Data(spec.canonicalBytes).write(to: specFile)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [script.path, specFile.path]
        let out = Pipe()
        python.standardOutput = out
        python.standardInput = FileHandle.nullDevice
        try python.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        let result = try JSONParser().parse(Array(data))
        return Result(
            status: Int32(result["status"]?.integerValue ?? -1), output: result["output"]?.stringValue ?? "",
            missed: result["missed"]?.boolValue ?? true)
    }
}

extension CLI {
    /// Runs `airlock ARGS` with pipes (no terminal) and sends it `signal` once its standard error
    /// shows `marker`, as a service manager or `kill` would; a run that never shows it is killed
    /// at the deadline.
    static func run(
        _ arguments: [String], environment: [String: String], signal: Int32, when marker: String,
        timeout: Double = 60
    ) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let errText = Mutex(Data())
        let outText = Mutex(Data())
        let group = DispatchGroup()
        try process.run()
        group.enter()
        DispatchQueue.global().async {
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                errText.withLock { $0.append(chunk) }
            }
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            outText.withLock { $0 = data }
            group.leave()
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        var signalled = false
        while process.isRunning && Date() < deadline {
            if !signalled, errText.withLock({ String(decoding: $0, as: UTF8.self).contains(marker) }) {
                kill(process.processIdentifier, signal)
                signalled = true
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        group.wait()
        process.waitUntilExit()
        let status =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CLIResult(
            status: status, stdout: String(decoding: outText.withLock { $0 }, as: UTF8.self),
            stderr: String(decoding: errText.withLock { $0 }, as: UTF8.self))
    }
}
