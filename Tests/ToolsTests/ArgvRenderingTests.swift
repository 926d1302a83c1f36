import AirlockCore
import Testing

@testable import Tools

@Suite("argv rendering")
struct ArgvRenderingTests {
    let template: [ArgvElement] = [
        .literal(TextTemplate(segments: [.text("--json")])),
        .option(name: "--tag", argument: "tags"),
        .option(name: "--max", argument: "max"),
        .flag(name: "--verbose", argument: "verbose"),
        .literal(TextTemplate(segments: [.text("--")])),
        .positional(argument: "paths"),
    ]

    @Test func valuesLandOnlyWhereTheTemplateSays() throws {
        let argv = try ArgvElement.render(
            template, arguments: ["tags": ["a", "-b"], "max": 5, "verbose": true, "paths": ["-rf", "x y", "$(id)"]])
        #expect(argv == ["--json", "--tag=a", "--tag=-b", "--max=5", "--verbose", "--", "-rf", "x y", "$(id)"])
    }

    @Test func absentNullAndFalseAddNothing() throws {
        let argv = try ArgvElement.render(template, arguments: ["max": nil, "verbose": false])
        #expect(argv == ["--json", "--"])
    }

    @Test func scalarsAndObjectsAreRenderedCanonically() throws {
        let argv = try ArgvElement.render(
            [
                .option(name: "--n", argument: "n"), .option(name: "--f", argument: "f"),
                .option(name: "--o", argument: "o"),
            ],
            arguments: ["n": 2.5, "f": false, "o": ["b": 1, "a": [true]]])
        #expect(argv == ["--n=2.5", "--f=false", #"--o={"a":[true],"b":1}"#])
    }

    @Test func aNULByteIsRefusedNamingTheArgument() {
        #expect(throws: ToolsError.self) {
            try ArgvElement.render(template, arguments: ["paths": ["a\u{0}b"]])
        }
        do {
            _ = try ArgvElement.render(template, arguments: ["paths": ["a\u{0}b"]])
        } catch {
            #expect(error.code == .invalidArguments)
            #expect(error.problems.first?.pointer == "/paths")
        }
    }

    @Test func optionNamesAreChecked() {
        #expect(ArgvElement.isOptionName("--max-matches"))
        #expect(!ArgvElement.isOptionName("-m"))
        #expect(!ArgvElement.isOptionName("--"))
        #expect(!ArgvElement.isOptionName("---x"))
        #expect(!ArgvElement.isOptionName("--a=b"))
    }

    @Test func textTemplatesExpandVariablesToInsidePaths() throws {
        let t = try TextTemplate.parse("--db=${dataset:w}/x.sqlite:${workspace}$HOME").get()
        #expect(t.expanded == "--db=/data/w/x.sqlite:/workspace$HOME")
        #expect(t.variables == [.dataset("w"), .workspace])
        #expect(throws: TemplateError.self) { try TextTemplate.parse("${dataset:../x}").get() }
        #expect(throws: TemplateError.self) { try TextTemplate.parse("${env:HOME}").get() }
        #expect(throws: TemplateError.self) { try TextTemplate.parse("${workspace").get() }
    }

    @Test func mountsCannotEscape() throws {
        #expect(try MountSpec.parse("${workspace}/notes/a", writable: true).get().insidePath == "/workspace/notes/a")
        for bad in [
            "${workspace}/..", "${workspace}/./x", "${workspace}//x", "${workspace}x", "/srv/data",
            "${dataset:a}/${workspace}", "relative/path",
        ] {
            #expect(throws: TemplateError.self, "\(bad)") { try MountSpec.parse(bad, writable: false).get() }
        }
    }
}
