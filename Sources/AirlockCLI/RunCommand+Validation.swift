import ArgumentParser
import Model

extension RunCommand {
    /// Checks the flags before anything is loaded or started: a `--tool-calling` that is not a
    /// mode is bad usage (64), whether or not a model would be reachable.
    func validate() throws {
        guard toolCalling == "auto" || ToolCallingMode(rawValue: toolCalling) != nil else {
            throw ValidationError("tool calling mode '\(toolCalling)' is not one of auto, native, constrained")
        }
        guard ["text", "json"].contains(progress) else {
            throw ValidationError("--progress \(progress): expected text or json")
        }
    }
}
