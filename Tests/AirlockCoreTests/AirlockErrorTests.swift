import AirlockCore
import Foundation
import Testing

/// A module's codes, as a module declares them.
private enum SampleCode: String, AirlockErrorCode {
    case notThere = "not-there"
    case broken

    var exitStatus: CommandExit {
        switch self {
        case .notThere: .noInput
        case .broken: .ioError
        }
    }
}

private typealias SampleError = AirlockError<SampleCode>

/// A foreign error, as Foundation or a library throws one.
private struct LibraryError: Error, CustomStringConvertible {
    var description: String { "disk I/O error" }
}

@Suite("AirlockError: the one error shape")
struct AirlockErrorTests {
    @Test("the message alone when there is neither problem nor cause")
    func messageAlone() {
        let error = SampleError(.notThere, "no run r1 in the trace")
        #expect(error.description == "no run r1 in the trace")
        #expect(error.codeName == "not-there")
        #expect(error.exitStatus == .noInput)
        #expect(SampleError.Code.broken.exitStatus == .ioError)
    }

    @Test("every problem on its own line, then the cause")
    func problemsThenCause() {
        let error = SampleError(
            .broken, "manifest m.yaml is invalid",
            problems: [
                FieldProblem(pointer: "/limits/memory", line: 14, message: "expected a size"),
                FieldProblem(pointer: "", message: "unknown key"),
            ], cause: "EIO")
        #expect(
            error.description
                == "manifest m.yaml is invalid\n  /limits/memory (line 14): expected a size\n  (root): unknown key\n  cause: EIO"
        )
    }

    @Test("a cause that is an error is kept, and an Airlock error's code is named in its text")
    func causeKeptAsError() throws {
        let inner = SampleError(.broken, "append to run r1", cause: LibraryError())
        let outer = SampleError(.notThere, "the trace cannot be used", cause: inner)
        let kept = try #require(outer.cause?.underlying as? SampleError)
        #expect(kept == inner)
        #expect(kept.cause?.underlying is LibraryError)
        #expect(outer.cause?.description == "[broken] append to run r1\n  cause: disk I/O error")
        #expect(outer.description.hasPrefix("the trace cannot be used\n  cause: [broken] append to run r1"))
    }

    @Test("equality and hashing go by the text of the cause")
    func equality() {
        let a = SampleError(.broken, "x", cause: LibraryError())
        let b = SampleError(.broken, "x", cause: "disk I/O error")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != SampleError(.broken, "x"))
    }

    @Test("every exit status is a documented code in docs/cli.md")
    func exitStatusesAreDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        // Codes appear as a table cell of their own (`| 65 |`) or in a list of codes (`0 / 1 / 66`).
        let cells = Set(
            text.split(separator: "\n").filter { $0.hasPrefix("|") }
                .flatMap { $0.split(separator: "|").flatMap { $0.split(separator: "/") } }
                .map { $0.trimmingCharacters(in: .whitespaces) })
        for status in CommandExit.allCases {
            #expect(
                cells.contains(String(status.rawValue)), "exit \(status.rawValue) (\(status)) is not in docs/cli.md")
        }
    }
}
