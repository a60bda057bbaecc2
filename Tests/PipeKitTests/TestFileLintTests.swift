import Foundation
import Testing
@testable import PipeKit

/// `pipe lint` on test files: each problem at its line and column in the test file, in every
/// output format, and the test file beside a spec checked with it.
@Suite struct TestFileLintTests {
    /// Each line of the test file, with the problem it holds.
    static let bad = """
        spec: article.yaml
        case: []
        cases:
          - name: every problem
            input: x
            mocks:
              writr: { title: T, score: 1 }
              writer: [ { title: 3, score: 1 }, { error: tiemout } ]
            expect:
              output: { title: { contains: 1 }, score: { contains: "x" }, txt: a }
              stages: { writer: { model: mian, attempts: { ">=": "two" } } }
          - name: a stage alone
            stage: editor
            given: { writer: missing.json }
            replay: nowhere.jsonl
            expect: { output: { ">=": 1 }, stages: { editor: { output: 3 } } }
          - name: a stage alone that is not given what it reads
            stage: editor

        """

    func lint(_ format: String = "text") async throws -> (CommandResult, String) {
        let folder = try TemporaryFolder()
        try PipeTestCommandTests.spec.write(to: folder.url.appendingPathComponent("article.yaml"), atomically: true, encoding: .utf8)
        let path = folder.url.appendingPathComponent("article.test.yaml").path
        try Self.bad.write(toFile: path, atomically: true, encoding: .utf8)
        return (try await runPipe(["lint", "--format", format, path]), path)
    }

    @Test func theShapeOfATestFileIsCheckedFirst() async throws {
        let (result, path) = try await lint()
        #expect(result.status == 1)
        #expect(result.stdout.contains("\(path):2:1: error: unknown key `case` in the test file [unknown-key]"))
        #expect(result.stdout.contains("did you mean `cases`?"))
        #expect(result.stdout.contains("\(path):8:50: error: `error` must be `timeout`, `invalid`, `connection` or an HTTP status from 400 to 599, found `tiemout` [invalid-value]"))
        #expect(result.stdout.contains("did you mean `timeout`?"))
        #expect(result.stdout.contains("\(path):11:58: error: `>=` takes a number, not a string [type-mismatch]"))
    }

    /// With its shape right, the file is checked against the spec.
    @Test func stagesMocksMatchersGivenFilesAndModelsAreCheckedAgainstTheSpec() async throws {
        let folder = try TemporaryFolder()
        try PipeTestCommandTests.spec.write(to: folder.url.appendingPathComponent("article.yaml"), atomically: true, encoding: .utf8)
        let path = folder.url.appendingPathComponent("article.test.yaml").path
        let fixed = Self.bad.replacingOccurrences(of: "case: []\n", with: "evals: []\n")
            .replacingOccurrences(of: "tiemout", with: "timeout").replacingOccurrences(of: "\"two\"", with: "2")
        try fixed.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await runPipe(["lint", path])
        #expect(result.status == 1)
        let expected = [
            "\(path):7:7: error: the spec has no stage `writr` [unknown-reference]",
            "\(path):8:17: error: the mock value of `writer` does not match its output schema: /title: expected string, got number 3 [mock-value]",
            "\(path):10:26: error: `contains` 1 cannot match `output.title`, which is a string [type-mismatch]",
            "\(path):10:50: error: `contains` \"x\" cannot match `output.score`, which is a number or an integer [type-mismatch]",
            "\(path):10:67: error: the pipeline's output has no field `txt` [unknown-field]",
            "\(path):11:34: error: stage `writer` does not use model `mian` [unknown-model]",
            "\(path):14:22: error: the given file missing.json does not exist [invalid-value]",
            "\(path):15:13: error: the cassette nowhere.jsonl does not exist [invalid-value]",
            "\(path):16:25: error: `>=` cannot match `output`, which is a string [type-mismatch]",
            "\(path):16:64: error: an integer (3) cannot match `stages.editor.output`, which is a string [type-mismatch]",
            "\(path):18:12: error: `editor` reads `writer`, which the case does not give [missing-key]",
        ]
        for line in expected { #expect(result.stdout.contains(line), "missing: \(line)\n\(result.stdout)") }
        #expect(result.stdout.contains("did you mean `writer`?"))
        #expect(result.stdout.contains("did you mean `text`?"))
        #expect(result.stdout.contains("did you mean `main`?"))
        #expect(result.stderr.contains("\(expected.count) errors, 0 warnings in 1 file"), "\(result.stderr)")
    }

    /// A test file's `evals:` (what `pipe eval` scores with) is linted with its cases.
    @Test func theEvalsSectionIsCheckedAgainstTheSpec() async throws {
        let folder = try TemporaryFolder()
        try PipeTestCommandTests.spec.write(to: folder.url.appendingPathComponent("article.yaml"), atomically: true, encoding: .utf8)
        let path = folder.url.appendingPathComponent("article.test.yaml").path
        try """
            spec: article.yaml
            evals:
              - name: titled
                check: { path: output.title, ">=": 3 }
              - name: judged
                judge:
                  model: jduge
                  prompt: "Score {{ output.text }}"
                  output: { schema: { type: object, properties: { score: { type: integer } } } }
            min_pass_rate: { titeld: 0.9, judged: 2 }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await runPipe(["lint", path])
        #expect(result.status == 1)
        let expected = [
            "\(path):4:34: error: `>=` cannot match `output.title`, which is a string [type-mismatch]",
            "\(path):7:14: error:",
            "\(path):10:18: error: `min_pass_rate` names `titeld`, which is not an evaluator [unknown-reference]",
            "\(path):10:39: error: a pass rate is between 0 and 1, found 2.0 [invalid-value]",
        ]
        for line in expected { #expect(result.stdout.contains(line), "missing: \(line)\n\(result.stdout)") }
        #expect(result.stdout.contains("did you mean `titled`?"))
    }

    @Test(arguments: ["json", "github", "sarif"])
    func everyFormatPlacesTestFileProblems(_ format: String) async throws {
        let (result, _) = try await lint(format)
        #expect(result.status == 1)
        #expect(result.stdout.contains("article.test.yaml"))
        #expect(result.stdout.contains("unknown-key"))
    }

    @Test func aSpecsTestFileIsLintedWithIt() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("article.yaml").path
        try PipeTestCommandTests.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        try "cases:\n  - name: x\n    mocks: { editr: a }\n".write(
            to: folder.url.appendingPathComponent("article.test.yaml"), atomically: true, encoding: .utf8)
        let result = try await runPipe(["lint", spec])
        #expect(result.status == 1)
        #expect(result.stdout.contains("article.test.yaml:3:14: error: the spec has no stage `editr` [unknown-reference]"))
        #expect(result.stdout.contains("did you mean `editor`?"))
    }
}
