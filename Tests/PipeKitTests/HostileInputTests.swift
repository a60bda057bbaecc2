import Foundation
import Testing
@testable import PipeKit

/// Bad input of any kind gets a diagnostic, never a crash or a hang.
@Suite struct HostileInputTests {
    func compile(_ bytes: [UInt8]) -> Compiler.Result {
        Compiler.compile(SourceFile(path: "hostile.yaml", bytes: bytes), directory: "/nonexistent")
    }

    @Test func emptyFile() {
        #expect(compile([]).diagnostics.map(\.rule) == [.emptySpec])
        #expect(compile(Array("\n\n# only a comment\n".utf8)).diagnostics.map(\.rule) == [.emptySpec])
    }

    @Test func binaryGarbage() {
        var generator = SplitMix64(state: 11)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = compile(bytes)
        #expect(result.hasErrors)
        #expect(result.diagnostics.first?.rule == .yamlSyntax)
    }

    @Test func aScalarAtTheRoot() {
        #expect(compile(Array("just some text".utf8)).diagnostics.map(\.rule) == [.typeMismatch])
    }

    @Test func tenMegabyteFile() {
        let line = "- some padding line of text that goes on\n"
        let result = compile(Array(String(repeating: line, count: 10 * 1024 * 1024 / line.utf8.count + 1).utf8))
        #expect(result.diagnostics.map(\.rule) == [.yamlLimit])
    }

    @Test func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(compile(Array(deep.utf8)).diagnostics.map(\.rule) == [.yamlLimit])
        let deepBlock = (0..<500).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(compile(Array(deepBlock.utf8)).diagnostics.map(\.rule) == [.yamlLimit])
    }

    @Test func billionLaughs() throws {
        let url = Paths.testdata.appendingPathComponent("lint/err/yaml-bomb.yaml")
        let start = ContinuousClock.now
        let result = compile([UInt8](try Data(contentsOf: url)))
        #expect(result.diagnostics.map(\.rule) == [.yamlLimit])
        // Not a benchmark: a file that expands exponentially must fail long before it expands.
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func manyStagesAndLongLines() {
        var text = "version: 1\nmodels: { m: { provider: mock } }\ndefaults: { model: m }\nstages:\n"
        for i in 0..<2000 { text += "  s\(i):\n    prompt: \"\(String(repeating: "x", count: 200)) {{ input }}\"\n" }
        let result = compile(Array(text.utf8))
        #expect(!result.hasErrors)
        #expect(result.pipeline?.stages.count == 2000)
    }

    /// A valid pipeline on one line, followed by `count` unknown keys (not `x-`, which are free).
    static func oneLine(unknownKeys count: Int) -> String {
        "{version: 1, models: {m: {provider: mock}}, defaults: {model: m}, stages: {a: {prompt: hi}}, "
            + (0..<count).map { "key\($0): 1" }.joined(separator: ", ") + "}\n"
    }

    /// 20,000 diagnostics on one line of 250 KB: 200 are printed, each quoting only the part
    /// of the line around its key, then one line counts the rest (the lint took 27.7 s for
    /// 4,000 and printed 328 MB when every diagnostic quoted the whole line).
    @Test func twentyThousandUnknownKeysOnOneLineGiveABoundedReport() async throws {
        let folder = try TemporaryFolder("pipe-wide")
        let path = folder.url.appendingPathComponent("wide.yaml")
        try Data(Self.oneLine(unknownKeys: 20_000).utf8).write(to: path)
        let result = try await runPipe(["lint", path.path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains(": error: unknown key `key") }.count == LintedFile.maxShown)
        #expect(lines.count == LintedFile.maxShown * 4 + 1)
        #expect(lines.allSatisfy { $0.count < 300 })
        #expect(lines.last == "\(path.path): note: 19800 more diagnostics not shown (at most 200 are printed per file)")
        #expect(result.stderr == "20000 errors, 0 warnings in 1 file\n")
    }

    /// Each format prints 200 diagnostics of a file and counts the rest in its own way.
    @Test func everyFormatCountsTheDiagnosticsPastTheLimit() async throws {
        let folder = try TemporaryFolder("pipe-many")
        let path = folder.url.appendingPathComponent("many.yaml").path
        try Data(Self.oneLine(unknownKeys: 250).utf8).write(to: URL(fileURLWithPath: path))
        let note = "50 more diagnostics not shown (at most 200 are printed per file)"

        let json = try JSONParser.parse(try await runPipe(["lint", "--format", "json", path]).stdout).arrayValue ?? []
        #expect(json.count == 201)
        #expect(json.last == ["file": .string(path), "severity": "note", "message": .string(note), "omitted": 50])

        let sarif = try JSONParser.parse(try await runPipe(["lint", "--format", "sarif", path]).stdout)
        #expect(sarif["runs"]?[0]?["results"]?.arrayValue?.count == 200)
        let notification = sarif["runs"]?[0]?["invocations"]?[0]?["toolExecutionNotifications"]?[0]
        #expect(notification?["message"]?["text"] == .string(note))
        #expect(notification?["level"] == "note")

        let github = try await runPipe(["lint", "--format", "github", path]).stdout.split(separator: "\n")
        #expect(github.count == 201)
        #expect(github.last == "::notice file=\(path),title=pipe lint::\(note)")
    }

    /// A long line is quoted around the problem, cut with `…`, the caret under the span.
    @Test func aLongLineIsQuotedAroundTheProblem() {
        let source = SourceFile(path: "long.yaml", text: String(repeating: "p", count: 200) + "BAD" + String(repeating: "q", count: 200) + "\n")
        let span = Span(file: "long.yaml", start: SourcePosition(line: 1, column: 201), end: SourcePosition(line: 1, column: 204))
        let text = TextFormat().render([LintedFile(source: source, diagnostics: [Diagnostic(.unknownKey, at: span, "unknown key `BAD`")])])
        #expect(text == """
            long.yaml:1:201: error: unknown key `BAD` [unknown-key]
             1 | …\(String(repeating: "p", count: 40))BAD\(String(repeating: "q", count: 77))…
               | \(String(repeating: " ", count: 41))^~~

            """)
    }

    /// Control characters (ESC drives a terminal, U+0085 breaks a line) are printed escaped
    /// in the message and in the quoted line, with the caret still under the span.
    @Test func controlCharactersArePrintedEscaped() async throws {
        let source = SourceFile(path: "c.yaml", text: "a\u{1B}[2Jb\u{85}: 1\n")
        let span = Span(file: "c.yaml", start: SourcePosition(line: 1, column: 6), end: SourcePosition(line: 1, column: 7))
        let diagnostic = Diagnostic(.unknownKey, at: span, "unknown key `b\u{85}\u{1B}[2J`", hint: "not `\u{9B}`")
        let text = TextFormat().render([LintedFile(source: source, diagnostics: [diagnostic])])
        #expect(text == #"""
            c.yaml:1:6: error: unknown key `b\u0085\u001b[2J` [unknown-key]
             1 | a\u001b[2Jb\u0085: 1
               |           ^
               = hint: not `\u009b`

            """#)

        // The key `bad<NEL>key<ESC>[2J`, written with YAML's escapes, through the command.
        let spec = "version: 1\nmodels: { m: { provider: mock } }\ndefaults: { model: m }\nstages:\n  a: { prompt: hi }\n\"bad\\Nkey\\e[2J\": 1\n"
        let escaped = #"unknown key `bad\u0085key\u001b[2J` in the spec"#
        for format in ["text", "github", "json", "sarif"] {
            let result = try await runPipe(["lint", "--format", format, "-"], stdin: spec)
            #expect(result.status == 1)
            #expect(result.stdout.contains(escaped), "\(format): \(result.stdout)")
            #expect(!result.stdout.unicodeScalars.contains { $0.isControl && $0 != "\n" }, "\(format)")
        }
        let json = try JSONParser.parse(try await runPipe(["lint", "--format", "json", "-"], stdin: spec).stdout)
        #expect(json[0]?["message"] == "unknown key `bad\u{85}key\u{1B}[2J` in the spec")
    }

    /// Lines and columns are found from checkpoints, not by walking a long line from its
    /// start; they agree with a walk on generated lines of 1- to 4-byte characters.
    @Test func columnsOfLongLinesWithMultibyteCharacters() {
        var random = SplitMix64(state: 10)
        let alphabet: [Character] = ["a", "é", "€", "😀", "\t", " "]
        var text = ""
        for _ in 0..<3 {
            text += String((0..<Int.random(in: 300...900, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) + "\n"
        }
        let source = SourceFile(path: "u.yaml", text: text)
        for (index, line) in text.split(separator: "\n").enumerated() {
            var offset = source.lineStarts[index]
            for (column, scalar) in line.unicodeScalars.enumerated() {
                #expect(source.offset(line: index + 1, column: column + 1) == offset)
                #expect(source.position(ofOffset: offset) == SourcePosition(line: index + 1, column: column + 1))
                offset += String(scalar).utf8.count
            }
            #expect(source.offset(line: index + 1, column: line.unicodeScalars.count + 5) == offset)
        }
    }
}
