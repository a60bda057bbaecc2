import ArgumentParser
import Foundation
import PipeKit

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a pipeline's test cases offline, with mocked models and injected failures.",
        discussion: """
            Runs the cases of test files (`NAME.test.yaml` beside `NAME.yaml`): give the test \
            files, or specs, whose test files are found beside them. Every case runs offline \
            and in milliseconds: no call leaves the process, each stage's model answers what \
            the case's `mocks:` say, in turn, then the stage's `mock:` values or the mock \
            provider's (as `pipe run --mock`). Retries, re-asks, fallbacks, budgets and exit \
            statuses are the real ones; only the pauses between attempts are skipped. A file's \
            cases are independent and run four at once, reported in the file's order.

              spec: research-report.yaml          # relative to the test file; default NAME.yaml
              cases:
                - name: the happy path
                  input: "Heat pumps in old houses"
                  mocks:
                    researcher: { summary: "...", key_findings: ["..."] }        # a value
                    writer: [ { error: timeout }, { title: "T", body: "B" } ]   # answers in turn
                    critic: [ { reply: "not json" }, { score: 7 } ]             # a raw reply
                  expect:
                    exit: 0                                     # the default
                    output: { article: { contains: "heat" }, verified: true }
                    stages: { writer: { attempts: 2 }, critic: { attempts: 2 } }
                - name: the writer falls back
                  mocks: { writer: { error: 500, times: 3 } }
                  expect: { stages: { writer: { model: fast } } }
                - name: the editor alone
                  stage: editor                              # only this stage runs
                  given: { writer: writer.json }             # what it reads: a value or a .json file
                  replay: editor.cassette.jsonl              # answers from `pipe run --record`

            Mocks: a value (the stage's answer; a list is answers in turn, so a list value is \
            `[[a, b]]`), `{ reply: TEXT }` (the model's raw text), `{ error: KIND, times: N }` \
            with KIND timeout, invalid (a malformed API answer), connection, or an HTTP status \
            400-599 (429, 500, 529...): the typed error the real providers raise. A command \
            stage's mock values answer instead of its program.

            Replay: a case with `replay: FILE` answers its model calls from a cassette of \
            `pipe run --record` (failed calls fail again); a stage with `tools:` replays every \
            turn, its tool calls and results from the cassette, no tool server started.

            Matchers (`output`, a stage's `output` and `attempts`): a plain value means equals; \
            `contains` (substring, element, or subset of an object), `matches` (ECMA regex), \
            `schema` (a JSON Schema), `length`, `">="`, `"<="`, `equals`; a mapping of other \
            keys matches an object field by field (`fields:` for fields named like matchers). \
            `stages: { NAME: { attempts, model, status, output } }` checks a stage's last run \
            (status: succeeded, failed, skipped, cancelled, waiting, not-run).

            `evals:` and `min_pass_rate:` in the same file are `pipe eval`'s. `pipe lint` checks \
            test files too (a `.test.yaml` named, or the one beside a spec).

            Output: a line per case (PASS/FAIL, time) and, under a failure, each expectation \
            missed (expected vs actual at its path); --format junit (JUnit XML, a testsuite per \
            test file) or json.

            Exit status: 0 every case passed, 1 some failed, 2 a test file or its spec is \
            invalid (diagnostics on stderr, as `pipe lint` prints them) or cannot be read.

            Examples:
              pipe test pipelines/research-report.yaml
              pipe test pipelines/*.test.yaml --format junit > report.xml
            """
    )

    @Option(name: .long, help: "Output format: text, junit (JUnit XML) or json.")
    var format: TestReportFormat = .text

    @Argument(help: "Test files (NAME.test.yaml), or specs whose test files are beside them.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one test file or spec") }
    }

    func run() async throws {
        var loaded: [LoadedTestFile] = []
        var invalid: [LintedFile] = []
        for path in files {
            let testPath = TestFile.isTestFile(path) ? path : TestFile.path(forSpec: path)
            if !TestFile.isTestFile(path), !FileManager.default.fileExists(atPath: testPath) {
                try Terminal.writeError("pipe: \(path) has no test file: write its cases in \(testPath) (`pipe help test`)\n")
                throw ExitCodeError(code: 2)
            }
            do {
                let file = try TestSuiteLoader.load(testPath)
                if file.hasErrors || file.pipeline == nil { invalid += file.linted.filter { !$0.diagnostics.isEmpty } }
                loaded.append(file)
            } catch {
                try Terminal.writeError("pipe: \(error)\n")
                throw ExitCodeError(code: 2)
            }
        }
        if !invalid.isEmpty {
            try TextFormat(color: Terminal.isColorEnabled(fileDescriptor: 2)).write(invalid, to: Terminal.writeError)
            throw ExitCodeError(code: 2)
        }
        var results: [TestFileResults] = []
        for file in loaded {
            guard let pipeline = file.pipeline, let cases = file.file?.cases else { continue }
            let runner = TestCaseRunner(pipeline: pipeline, directory: file.directory)
            let caseResults = await runner.run(cases)
            results.append(TestFileResults(file: file.source.path, spec: file.specPath, cases: caseResults))
        }
        try Terminal.write(format.render(results))
        if results.contains(where: { $0.failed > 0 }) { throw ExitCodeError(code: 1) }
    }
}

extension TestReportFormat: ExpressibleByArgument {}
