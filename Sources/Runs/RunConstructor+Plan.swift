import Agent
import AirlockCore
import Foundation
import Model
import Policy
import Secrets
import Tools

extension RunConstructor {
    /// Checks a workflow against the home without running it (`airlock workflow lint`): every
    /// problem of the document (fields, types, ranges, budgets), every listed tool the registry
    /// does not know (or whose stored executable no longer matches its pin), and a policy that is
    /// missing or does not load (each of its problems at its own line), all at once.
    /// - Parameter url: the workflow file.
    /// - Throws: ``RunsError`` `not-found` when there is no such file, `state` when the registry
    ///   cannot be read. Problems are values in the result.
    public func check(workflow url: URL) throws(RunsError) -> WorkflowCheck {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RunsError(.notFound, "no workflow file at \(url.path)")
        }
        let reading: WorkflowReading
        do {
            reading = try Workflow.read(url)
        } catch {
            throw RunsError(.notFound, "[\(error.code.rawValue)] \(error)")
        }
        var problems = reading.allProblems
        guard reading.isDocument else {
            return WorkflowCheck(reading: reading, tools: [], policy: nil, problems: problems)
        }
        let workflow = reading.workflow
        let catalog = RegistryCatalog(registry: ToolRegistry(home: home.root))
        var tools: [PlannedTool] = []
        for (index, name) in workflow.tools.enumerated() {
            let pointer = JSONPointer.appending("/tools", index)
            do throws(ToolsError) {
                let tool = try catalog.tool(named: name)
                let stored = catalog.measuredDigest(of: tool, callID: "")
                let planned = PlannedTool(
                    reference: tool.reference, manifestSHA256: tool.manifest.manifestSHA256,
                    executableSHA256: tool.manifest.executable.sha256, storedSHA256: stored)
                tools.append(planned)
                if stored != planned.executableSHA256 {
                    problems.append(
                        reading.problem(
                            pointer,
                            "\(tool.reference): the stored executable's sha256 is \(stored), not the pinned \(planned.executableSHA256); every call would be denied (builtin.digest-drift)"
                        ))
                }
            } catch {
                guard error.code == .unknownTool else {
                    throw RunsError(.state, "the registry cannot be read", cause: error)
                }
                let registered = ((try? catalog.registry.list()) ?? []).map(\.manifest.name)
                let message =
                    (try? catalog.registry.versions(of: name))?.isEmpty == false
                    ? "\(name) cannot be used: \(error.message)"
                    : "\(name) is not registered in \(home.root.path) (registered: \(registered.isEmpty ? "none" : registered.joined(separator: ", ")); see `airlock tools add`)"
                problems.append(reading.problem(pointer, message))
            }
        }
        let policy = checkPolicy(reading, into: &problems)
        return WorkflowCheck(reading: reading, tools: tools, policy: policy, problems: Self.ordered(problems))
    }

    /// The workflow's own problems by line (document order where lines tie or are unknown), then
    /// the problems of other files and options in the order found.
    static func ordered(_ problems: [WorkflowProblem]) -> [WorkflowProblem] {
        let own = problems.enumerated().filter { $0.element.file == nil }
            .sorted { ($0.element.line ?? Int.max, $0.offset) < ($1.element.line ?? Int.max, $1.offset) }.map(\.element)
        return own + problems.filter { $0.file != nil }
    }

    /// The workflow's policy, or `nil` with the problems why not: a missing file at the workflow's
    /// `/policy`, a policy that does not load as each of its own problems (its file, pointer, line).
    private func checkPolicy(_ reading: WorkflowReading, into problems: inout [WorkflowProblem]) -> PolicyDocument? {
        // A missing or malformed `policy:` field is already a problem of the workflow.
        guard !reading.problems.contains(where: { $0.pointer == "/policy" }) else { return nil }
        let url = reading.workflow.policyURL
        guard let data = FileManager.default.contents(atPath: url.path), FileTree.isDirectory(url.path) == false else {
            problems.append(reading.problem("/policy", "no policy file at \(url.path)"))
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            _ = try Policy(yaml: text)
        } catch {
            problems.append(
                reading.problem(
                    "/policy",
                    "the policy \(url.path) does not load (\(error.problems.count) problem(s), each listed at its line in that file)"
                ))
            problems += error.problems.map {
                WorkflowProblem(file: url.path, pointer: $0.path, line: $0.line, message: $0.message)
            }
            return nil
        }
        return try? PolicyDocument(text: text, path: url.path)
    }

    /// What ``live(_:announce:)`` would assemble for `request`, found without starting the model,
    /// creating a workspace or recording anything (`airlock run --dry-run`): the workflow check,
    /// the parameters, pre-approvals, site, model, tool-calling mode, secret store and workspace,
    /// every problem with each at once.
    /// - Throws: ``RunsError`` `not-found` when there is no workflow file, `state` when the
    ///   registry cannot be read. Problems are values in the result.
    public func plan(_ request: RunRequest) throws(RunsError) -> RunPlan {
        let check = try check(workflow: request.workflow)
        let reading = check.reading
        var problems = check.problems
        let readable = reading.isDocument
        let parameters = readable ? reading.workflow.checkParameters(request.parameters).parameters : [:]
        if readable { problems += reading.parameterProblems(request.parameters) }
        let tools = reading.workflow.tools
        for tool in request.preApproved where readable && !tools.contains(tool) {
            problems.append(
                reading.problem(
                    "/tools",
                    "--approve \(tool): not one of workflow \(reading.workflow.name)'s tools (\(tools.joined(separator: ", ")))"
                ))
        }
        func option(_ name: String, _ error: RunsError) {
            problems.append(WorkflowProblem(file: name, pointer: "", line: nil, message: error.description))
        }
        var site = SiteConfiguration()
        do {
            site = try home.site()
        } catch {
            option(home.siteFile.path, error)
        }
        var model: PlannedModel?
        var defaultMode = ToolCallingMode.native
        do {
            switch try selectModel(request, site: site) {
            case .embedded(let server, let lock):
                model = .embedded(
                    name: server.model.name, modelFile: server.model.gguf, modelSHA256: server.model.ggufSHA256,
                    server: lock.server.name, lockSHA256: lock.digest)
                defaultMode = ToolCallingMode(rawValue: server.model.toolCalling) ?? .constrained
            case .client(let client as ScriptedModel):
                model = .scripted(name: client.name, responses: client.responses.count)
            case .client(let client):
                model = .endpoint(client.name)
            }
        } catch {
            option("--model", error)
        }
        var toolCalling: ToolCallingMode?
        // With no model selected, `auto` has nothing to follow but the site.
        let followsModel = (request.toolCalling ?? "auto") == "auto" && site.toolCalling == nil
        do {
            let mode = try ToolCallingMode.resolve(
                requested: request.toolCalling, site: site.toolCalling, defaultMode: defaultMode)
            toolCalling = model == nil && followsModel ? nil : mode
        } catch {
            option("--tool-calling", RunsError(.usage, "[\(error.code.rawValue)] \(error)"))
        }
        do {
            _ = try secretBroker()
        } catch {
            option(SecretStore(home: home.root).storeURL.path, error)
        }
        if let explicit = request.workspace, let name = Workspaces(home: home).name(of: explicit),
            Workspaces(home: home).isInUse(name)
        {
            option(
                "--workspace",
                RunsError(.usage, "the workspace \(name) is in use by another run; give the run another --workspace"))
        }
        return RunPlan(
            check: check, parameters: parameters, model: model, toolCalling: toolCalling,
            preApproved: Set(reading.workflow.preApproved + request.preApproved).sorted(),
            workspace: request.workspace, datasets: site.datasets, problems: Self.ordered(problems))
    }
}
