import Foundation
import ModelRuntime
import Sandbox
import Tools

extension Doctor {
    /// **model-server-network**: the running confined model server sees only `lo`, in a network
    /// namespace of its own. Not running: `skip` with the reason.
    public func modelServerNetwork() -> DoctorCheck {
        let id = "model-server-network"
        let title = "the confined model server has no network but its own loopback"
        if let failure = configuration.modelServerStartFailure {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "could not start the model server to check it",
                evidence: [failure], remedy: "see airlock model status and AIRLOCK_HOME/run/model-server.log")
        }
        let statePath = configuration.modelServerState.path
        guard let state = ModelServerState.read(configuration.modelServerState), state.status != "stopped",
            state.supervisorAlive
        else {
            return DoctorCheck(
                id: id, title: title, status: .skip, summary: "the model server is not running",
                evidence: [
                    "\(statePath): \(FileManager.default.fileExists(atPath: statePath) ? "no live supervisor" : "absent")"
                ],
                remedy:
                    "pass --start-model to start it for the check, or start it with airlock model serve --background")
        }
        guard let pid = state.serverPID else {
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "the supervisor (pid \(state.supervisorPID)) has not recorded its server's pid",
                evidence: ["\(statePath): status \(state.status)"],
                remedy: "wait until airlock model status shows the server ready, then run doctor again")
        }
        guard FileManager.default.fileExists(atPath: "/proc/\(pid)") else {
            return DoctorCheck(
                id: id, title: title, status: .skip,
                summary: "the server (pid \(pid)) is not running; its supervisor reports \(state.status)",
                evidence: ["\(statePath): supervisor \(state.supervisorPID), status \(state.status)"],
                remedy: "run doctor again once airlock model status shows the server ready")
        }
        let interfaces = ProcessNetwork.interfaces(pid: pid)
        let theirs = ProcessNetwork.networkNamespace(pid: pid)
        let ours = ProcessNetwork.networkNamespace(pid: getpid())
        var evidence = [
            "server pid \(pid) (supervisor \(state.supervisorPID), status \(state.status))",
            "/proc/\(pid)/net/dev: \(interfaces.map { $0.joined(separator: ", ") } ?? "unreadable")",
            "network namespace: server \(theirs ?? "unreadable"), host (doctor) \(ours ?? "unreadable")",
        ]
        if let recorded = state.interfaces {
            evidence.append("recorded by the supervisor: \(recorded.joined(separator: ", "))")
        }
        guard let interfaces, let theirs, let ours else {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "cannot read the server's network from /proc",
                evidence: evidence, remedy: "run doctor as the user that started the server (or as root)")
        }
        let onlyLoopback = interfaces == ["lo"]
        guard onlyLoopback, theirs != ours else {
            var problems: [String] = []
            if !onlyLoopback { problems.append("it sees \(interfaces.joined(separator: ", "))") }
            if theirs == ours { problems.append("it shares the host's network namespace") }
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: problems.joined(separator: "; "), evidence: evidence,
                remedy: "stop it (airlock model stop) and start it again with airlock model serve: it must run confined"
            )
        }
        return DoctorCheck(
            id: id, title: title, status: .pass, summary: "pid \(pid) sees only lo, in its own network namespace",
            evidence: evidence)
    }

    /// `exit 0` or `signal 9`.
    static func describe(_ termination: Termination) -> String {
        switch termination {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }

    /// The probe run in the sandbox: lists the interfaces, then tries `socket(AF_INET)`.
    static let networkProbe = """
        import socket
        with open("/proc/net/dev") as f:
            names = [line.split(":", 1)[0].strip() for line in f.readlines()[2:]]
        print("interfaces " + ",".join(names))
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            print("socket opened")
        except OSError as e:
            print("socket refused %d" % e.errno)
        """

    /// **tool-network**: a probe run in the real sandbox, with the spec tools get, sees only `lo`
    /// and is refused `socket(AF_INET)`.
    public func toolNetwork() async -> DoctorCheck {
        let id = "tool-network"
        let title = "a confined tool sees no network interface but loopback and cannot open an inet socket"
        let spec = SandboxSpec(
            program: configuration.probeInterpreter, arguments: ["-c", Self.networkProbe],
            environment: ToolRunner.baseEnvironment,
            limits: SandboxLimits(wallTimeSeconds: configuration.probeWallTimeSeconds))
        let record: ExecutionRecord
        do {
            record = try await Sandbox().run(spec)
        } catch {
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: "the sandbox could not run the probe",
                evidence: ["\(configuration.probeInterpreter): \(error.message)"],
                remedy: "see airlock sandbox probe; the sandbox must work for any tool to run")
        }
        let lines = record.stdout.text.split(separator: "\n").map(String.init)
        let interfaces = lines.first { $0.hasPrefix("interfaces ") }.map {
            $0.dropFirst(11).split(separator: ",").map(String.init)
        }
        let socketLine = lines.first { $0.hasPrefix("socket ") }
        var evidence = [
            "probe: \(configuration.probeInterpreter) in the sandbox (tools' environment and default seccomp profile), \(Self.describe(record.termination))",
            "/proc/net/dev inside: \(interfaces.map { $0.joined(separator: ", ") } ?? "not read")",
            "socket(AF_INET, SOCK_STREAM): \(socketLine.map { $0.hasPrefix("socket refused ") ? "refused, errno \($0.dropFirst(15))" : String($0.dropFirst(7)) } ?? "not tried")",
            "network namespace: \(record.confinement.networkNamespace ?? "unknown")",
        ]
        let denials = record.deniedSyscalls.filter { $0.name == "socket" }
        evidence.append(
            denials.isEmpty
                ? "denied-syscall record: none for socket"
                : denials.map { "denied-syscall record: \($0.name) ×\($0.count) \($0.detail ?? "")" }.joined(
                    separator: "; "))
        guard let interfaces, let socketLine else {
            let stderr = record.stderr.text.split(separator: "\n").suffix(3).joined(separator: " | ")
            return DoctorCheck(
                id: id, title: title, status: .fail,
                summary: "the probe did not report (\(Self.describe(record.termination)))",
                evidence: evidence + ["stderr: \(stderr)"],
                remedy: "check that \(configuration.probeInterpreter) exists on the host (tools run it confined)")
        }
        let refused = socketLine.hasPrefix("socket refused")
        guard interfaces == ["lo"], refused else {
            var problems: [String] = []
            if interfaces != ["lo"] { problems.append("the probe sees \(interfaces.joined(separator: ", "))") }
            if !refused { problems.append("socket(AF_INET) succeeded") }
            return DoctorCheck(
                id: id, title: title, status: .fail, summary: problems.joined(separator: "; "), evidence: evidence,
                remedy: "do not run tools on this host until the sandbox confines them (airlock sandbox probe)")
        }
        let errno = socketLine.split(separator: " ").last.map(String.init) ?? "?"
        return DoctorCheck(
            id: id, title: title, status: .pass,
            summary: "only lo; socket(AF_INET) refused with errno \(errno)\(errno == "1" ? " (EPERM)" : "")",
            evidence: evidence)
    }
}
