import FakeLLM
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import PipeKit

/// `pipe test` run as a user runs it: cases with mocks and injected provider failures, the
/// real retries and fallbacks, expected vs actual on failure, exit codes, JUnit and JSON.
@Suite struct PipeTestCommandTests {
    static let spec = """
        version: 1
        name: article
        input: { schema: { type: string, minLength: 1 } }
        models:
          main: { provider: anthropic, model: claude-haiku-4-5 }
          backup: { provider: openai, model: gpt-4.1-mini }
        defaults: { model: main, retries: 1, timeout: 30s }
        stages:
          writer:
            fallback: [backup]
            prompt: "Write about {{ input }}"
            output:
              schema:
                type: object
                required: [title, score]
                properties: { title: { type: string }, score: { type: integer } }
          editor:
            prompt: "Edit the article titled {{ writer.title }}"
        output: { title: "{{ writer.title }}", score: "{{ writer.score }}", text: "{{ editor }}" }

        """

    /// A folder with `article.yaml` and `article.test.yaml` holding `cases`.
    func folder(cases: String) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try Self.spec.write(to: folder.url.appendingPathComponent("article.yaml"), atomically: true, encoding: .utf8)
        try ("spec: article.yaml\ncases:\n" + cases).write(
            to: folder.url.appendingPathComponent("article.test.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    func test(_ folder: borrowing TemporaryFolder, _ extra: [String] = [], environment: [String: String]? = nil) async throws -> CommandResult {
        try await runPipe(["test", folder.url.appendingPathComponent("article.yaml").path] + extra, environment: environment)
    }

    @Test func aPassingCaseExitsZeroWithALinePerCase() async throws {
        let folder = try folder(cases: """
              - name: the happy path
                input: heat pumps
                mocks: { writer: { title: "Heat pumps", score: 8 }, editor: "An edited text." }
                expect:
                  output: { title: { contains: Heat }, score: { ">=": 7 }, text: "An edited text." }
                  stages: { writer: { attempts: 1, model: main, status: succeeded } }

            """)
        let result = try await test(folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("  PASS  the happy path ("))
        #expect(result.stdout.hasSuffix("1 case: 1 passed, 0 failed\n"))
    }

    @Test func aFailingCaseShowsExpectedAndActualAtThePathAndExitsOne() async throws {
        let folder = try folder(cases: """
              - name: wrong title
                mocks: { writer: { title: "Heat pumps", score: 3 } }
                expect:
                  output: { title: "Cold pumps", score: { ">=": 7 } }
                  stages: { writer: { attempts: 2 } }
              - name: right title
                mocks: { writer: { title: "Heat pumps", score: 3 } }
                expect: { output: { title: "Heat pumps" } }

            """)
        let result = try await test(folder)
        #expect(result.status == 1)
        #expect(result.stdout.contains("  FAIL  wrong title ("))
        #expect(result.stdout.contains("        output.title: expected \"Cold pumps\", found \"Heat pumps\"\n"))
        #expect(result.stdout.contains("        output.score: expected a number >= 7, found 3\n"))
        #expect(result.stdout.contains("        stages.writer.attempts: expected 2, found 1\n"))
        #expect(result.stdout.contains("  PASS  right title ("))
        #expect(result.stdout.hasSuffix("2 cases: 1 passed, 1 failed\n"))
    }

    /// Each injected error is the typed error a provider raises: transient ones are retried
    /// on the same model, and the attempt count and the model say so.
    @Test(arguments: ["{ error: timeout }", "{ error: 429 }", "{ error: 500 }", "{ error: 529 }", "{ error: invalid }",
        "{ error: connection }", "{ reply: \"not json\" }", "{ reply: '{\"title\": 1}' }"])
    func anInjectedFailureIsRetriedOnTheSameModel(_ failure: String) async throws {
        let folder = try folder(cases: """
              - name: retried
                mocks: { writer: [ \(failure), { title: "T", score: 1 } ] }
                expect: { output: { title: T }, stages: { writer: { attempts: 2, model: main } } }

            """)
        let result = try await test(folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test func errorsBeyondTheRetriesFallBackThenFailTheRun() async throws {
        let folder = try folder(cases: """
              - name: falls back
                mocks: { writer: { error: 500, times: 2 } }
                expect: { stages: { writer: { attempts: 3, model: backup } } }
              - name: every model fails
                mocks: { writer: { error: 529, times: 4 } }
                expect: { exit: 1, stages: { writer: { status: failed, attempts: 4 }, editor: { status: not-run } } }
              - name: a request the API rejects is not retried
                mocks: { writer: { error: 400 } }
                expect: { exit: 1, stages: { writer: { attempts: 1 } } }

            """)
        let result = try await test(folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("3 cases: 3 passed, 0 failed\n"))
    }

    @Test func aWrongExitStatusSaysWhichStageFailedAndWhy() async throws {
        let folder = try folder(cases: """
              - name: expects success
                mocks: { writer: { error: 529, times: 4 } }

            """)
        let result = try await test(folder)
        #expect(result.status == 1)
        #expect(result.stdout.contains("        exit: expected 0, found 1 (stage `writer` failed after 4 attempts: "))
        #expect(result.stdout.contains("529 from openai"))
    }

    @Test func oneStageRunsAloneWithGivenValues() async throws {
        let folder = try folder(cases: """
              - name: the editor alone
                stage: editor
                given: { writer: writer.json }
                mocks: { editor: "Edited: Given title" }
                expect: { output: { matches: "^Edited: Given" } }
              - name: inline given
                stage: editor
                given: { writer: { title: Inline, score: 2 } }
                expect: { output: { contains: "Mock output of stage editor" }, stages: { writer: { status: not-run } } }

            """)
        try #"{"title": "Given title", "score": 5}"#.write(
            to: folder.url.appendingPathComponent("writer.json"), atomically: true, encoding: .utf8)
        let result = try await test(folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test func anInvalidTestFileExitsTwoWithDiagnosticsOnStderr() async throws {
        let folder = try folder(cases: """
              - name: typo
                mocks: { writr: { title: T, score: 1 } }

            """)
        let result = try await test(folder)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("article.test.yaml:4:14: error: the spec has no stage `writr` [unknown-reference]"))
        #expect(result.stderr.contains("did you mean `writer`?"))
    }

    @Test func aSpecWithoutATestFileExitsTwo() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("alone.yaml")
        try Self.spec.write(to: spec, atomically: true, encoding: .utf8)
        let result = try await runPipe(["test", spec.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("has no test file: write its cases in \(folder.url.appendingPathComponent("alone.test.yaml").path)"))
    }

    /// The spec's models point at a server the test started: a case never reaches it, even
    /// with keys set.
    @Test func aCaseNeverOpensASocket() async throws {
        let server = FakeLLMServer()
        _ = try server.start()
        defer { server.stop() }
        let folder = try folder(cases: """
              - name: offline
                mocks: { writer: [ { error: 500 }, { title: T, score: 1 } ] }

            """)
        let result = try await test(folder, environment: [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(server.log.isEmpty)
    }

    @Test func junitIsATestsuitePerFileWithAFailurePerFailedCase() async throws {
        let folder = try folder(cases: """
              - name: passes
                mocks: { writer: { title: T, score: 1 } }
              - name: "fails <&>"
                mocks: { writer: { title: T, score: 1 } }
                expect: { output: { title: U } }

            """)
        let result = try await test(folder, ["--format", "junit"])
        #expect(result.status == 1)
        let xml = try JUnitDocument(result.stdout)
        #expect(xml.root == "testsuites")
        #expect(xml.suites == [folder.url.appendingPathComponent("article.test.yaml").path])
        #expect(xml.cases == ["passes", "fails <&>"])
        #expect(xml.failures == ["output.title: expected \"U\", found \"T\""])
        #expect(xml.attributes["testsuites"]?["tests"] == "2")
        #expect(xml.attributes["testsuites"]?["failures"] == "1")
    }

    @Test func jsonHasEachCaseWithItsFailures() async throws {
        let folder = try folder(cases: """
              - name: fails
                mocks: { writer: { title: T, score: 1 } }
                expect: { output: { score: 2 } }

            """)
        let result = try await test(folder, ["--format", "json"])
        #expect(result.status == 1)
        let report = try JSONParser.parse(result.stdout)
        #expect(report["failed"] == 1)
        let testCase = report["files"]?[0]?["cases"]?[0]
        #expect(testCase?["name"] == "fails")
        #expect(testCase?["passed"] == false)
        #expect(testCase?["failures"] == ["output.score: expected 2, found 1"])
    }
}

/// A JUnit XML document read with Foundation's parser, as a CI system reads it: the root,
/// each `testsuite`'s name, each `testcase`'s name, each `failure`'s message.
struct JUnitDocument {
    var root = ""
    var suites: [String] = []
    var cases: [String] = []
    var failures: [String] = []
    /// The attributes of the last element of each name.
    var attributes: [String: [String: String]] = [:]

    init(_ text: String) throws {
        final class Reader: NSObject, XMLParserDelegate {
            var document = JUnitDocument()
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if document.root.isEmpty { document.root = name }
                document.attributes[name] = attributes
                switch name {
                case "testsuite": document.suites.append(attributes["name"] ?? "")
                case "testcase": document.cases.append(attributes["name"] ?? "")
                case "failure": document.failures.append(attributes["message"] ?? "")
                default: break
                }
            }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let reader = Reader()
        parser.delegate = reader
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.propertyListReadCorrupt) }
        self = reader.document
    }

    private init() {}
}

extension PipeTestCommandTests {
    /// A file's cases run several at once: each keeps its own mocks and attempts, and the
    /// lines come in the file's order.
    @Test func casesRunAtOnceEachWithItsOwnMocksReportedInFileOrder() async throws {
        let cases: String = (1...9).map { (index: Int) -> String in
            let writer: String = index % 2 == 1 ? #"[ { error: timeout }, { title: "T\#(index)", score: \#(index) } ]"# : #"{ title: "T\#(index)", score: \#(index) }"#
            // Case 6 expects what it is not given: it alone fails.
            let expected = index == 6 ? "T7" : "T\(index)"
            return """
                  - name: case \(index)
                    input: topic \(index)
                    mocks: { writer: \(writer), editor: "Edited \(index)." }
                    expect:
                      output: { title: \(expected), score: \(index), text: "Edited \(index)." }
                      stages: { writer: { attempts: \(index % 2 == 1 ? 2 : 1) } }

                """
        }.joined()
        let folder = try folder(cases: cases)
        let result = try await test(folder)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  PASS") || $0.hasPrefix("  FAIL") }
        let shown: [String] = lines.map { String($0.split(separator: "(")[0]).trimmingCharacters(in: .whitespaces) }
        #expect(shown == (1...9).map { (index: Int) -> String in "\(index == 6 ? "FAIL" : "PASS")  case \(index)" })
        #expect(result.stdout.contains(#"output.title: expected "T7", found "T6""#), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("9 cases: 8 passed, 1 failed\n"))
    }
}
