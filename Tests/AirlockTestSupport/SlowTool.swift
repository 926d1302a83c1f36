import AirlockCore

/// `slow.sleep`, for tests that stop a run while a tool runs: it marks `started` in the
/// workspace, then sleeps (its manifest allows 60 s). The files as text, so that each test writes
/// them where it needs them (a fixture's home, a CLI test's scratch directory): the executable
/// as `sleep.sh` beside the manifest, the policy as the workflow's `policy:` names it.
public enum SlowTool {
    /// The executable: marks the start, then sleeps `seconds`.
    public static func script(seconds: Int) -> String {
        "#!/bin/sh\necho started > /workspace/started\nexec sleep \(seconds)\n"
    }

    /// The manifest, pinning `script` as `sleep.sh`, with the call's time limit.
    public static func manifest(script: String, timeoutSeconds: Int = 60) -> String {
        """
        name: slow.sleep
        version: 1.0.0
        description: Mark the start in the workspace, then sleep.
        owner: tests@example.org
        executable: {path: sleep.sh, sha256: \(SHA256.hex(Array(script.utf8)))}
        argv: []
        input: {type: object, additionalProperties: false, properties: {}}
        output: {format: text, maxBytes: 4KiB}
        filesystem: {readWrite: ["${workspace}"]}
        limits: {timeoutSeconds: \(timeoutSeconds)}
        risk: low
        data: {reads: [], output: [internal]}
        threats: ["maestro:L3"]

        """
    }

    /// A policy that permits the slow tool.
    public static let policy = """
        airlock_policy: 1
        name: slow-tool
        description: Permits the slow tool.
        rules:
          - {id: permit.slow, effect: permit, when: {tools: [slow.sleep]}, reason: the slow tool is allowed, tags: [maestro:L3]}

        """

    /// A workflow offering the slow tool alone under the policy file `policy`, with `budgets`
    /// (a YAML flow mapping).
    public static func workflow(policy: String, budgets: String) -> String {
        """
        airlock_workflow: 1
        name: slow-tool
        description: Runs the slow tool.
        system_prompt: You run tools.
        task: Run the slow tool.
        tools: [slow.sleep]
        policy: \(policy)
        budgets: \(budgets)

        """
    }
}
