import FakeLLM
import Foundation
import FoundationXML
import Testing
@testable import PipeKit

/// `pipe eval` run as a user runs it, against the fake server: a dataset of ten items scored
/// by checks and a judge, the scoreboard's numbers, `min_pass_rate` met and missed, the eval
/// compared with an earlier one, json and JUnit output parsed, a bad test file refused at its
/// positions, and a killed eval resumed.
@Suite final class EvalCommandTests: Sendable {
    let folder: TemporaryFolder
    let spec: String
    let store: String
    let dataset: String

    init() throws {
        folder = try TemporaryFolder("pipe-eval")
        spec = folder.url.appendingPathComponent("classify.yaml").path
        try Self.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        store = folder.url.appendingPathComponent("runs.db").path
        dataset = folder.url.appendingPathComponent("golden.jsonl").path
        // Ten items, a blank line after the fifth: item n is on line n + 1, from item 5 on line n + 2.
        var lines = (0..<10).map { #"{"input": {"id": "\#($0)", "text": "text \#($0)"}, "expected": {"label": "L\#($0)"}}"# }
        lines.insert("", at: 5)
        try (lines.joined(separator: "\n") + "\n").write(toFile: dataset, atomically: true, encoding: .utf8)
    }

    /// The pipeline's output token costs $1, the judge's $2: their costs tell them apart.
    static let specText = """
        version: 1
        name: classify
        input:
          schema: { type: object, required: [id, text], properties: { id: { type: string }, text: { type: string } } }
        models:
          claude: { provider: anthropic, model: claude-test, price: { input: 0.0, output: 1000000.0 } }
          judge: { provider: anthropic, model: claude-judge, price: { input: 0.0, output: 2000000.0 } }
        defaults: { model: claude, max_tokens: 100, retries: 1, timeout: 60s }
        stages:
          classify:
            prompt: "ITEM {{ input.id }}: {{ input.text }}"
            output: { schema: { type: object, required: [label, title, confidence], properties: { label: { type: string }, title: { type: string }, confidence: { type: number } } } }
        output:
          label: "{{ classify.label }}"
          title: "{{ classify.title }}"
          confidence: "{{ classify.confidence }}"
        """

    static func tests(minimum: Double) -> String {
        """
        spec: classify.yaml
        cases: []   # pipe test's; ignored by pipe eval
        evals:
          - name: has-title
            check: { path: output.title, length: { ">=": 5 } }
          - name: label-matches
            check: { path: output.label, equals: "{{ expected.label }}" }
          - name: judged
            judge:
              model: judge
              prompt: "JUDGE ITEM {{ input.id }}: is {{ output.label }} right for {{ input.text }}?"
              output: { schema: { type: object, required: [score, reason], properties: { score: { type: integer }, reason: { type: string } } } }
              pass: score >= 7
        min_pass_rate: { label-matches: \(minimum), judged: 0.5 }
        """
    }

    func writeTests(minimum: Double, name: String = "classify.test.yaml") throws -> String {
        let path = folder.url.appendingPathComponent(name).path
        try Self.tests(minimum: minimum).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func item(of request: FakeRequest) -> Int? {
        guard let range = request.prompt.range(of: "ITEM ") else { return nil }
        return Int(request.prompt[range.upperBound...].prefix { $0 != ":" })
    }

    /// The pipeline labels item n `L{n}`, but `wrong` items `WRONG`; the judge scores items
    /// that are multiples of 3 with 4, the others with 8.
    static func handler(wrong: Set<Int>) -> FakeLLMServer.Handler {
        { request in
            guard let id = item(of: request) else { return .error(status: 400, message: "no item") }
            if request.prompt.contains("JUDGE ITEM") {
                return .text(#"{"score": \#(id % 3 == 0 ? 4 : 8), "reason": "judged \#(id)"}"#)
            }
            return .text(#"{"label": "\#(wrong.contains(id) ? "WRONG" : "L\(id)")", "title": "Title \#(id)", "confidence": 0.5}"#)
        }
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k", "PIPE_STORE": store]
    }

    func withServer(wrong: Set<Int>, _ body: (FakeLLMServer) async throws -> Void) async throws {
        let server = FakeLLMServer(handler: Self.handler(wrong: wrong))
        try server.start()
        defer { server.stop() }
        try await body(server)
    }

    func evaluator(_ board: JSONValue, _ name: String) throws -> JSONValue {
        try #require(board["evaluators"]?.arrayValue?.first { $0["name"] == .string(name) })
    }

    /// Recorded against the server, the eval replays with the server gone: the same scoreboard,
    /// judges included, no key in the cassette; a dataset item the cassette lacks fails.
    @Test func anEvalRecordedOnceReplaysOfflineWithTheSameScoreboard() async throws {
        _ = try writeTests(minimum: 0.8)
        let cassette = folder.url.appendingPathComponent("eval.cassette.jsonl").path
        var recorded = JSONValue.null
        try await withServer(wrong: [3, 7]) { server in
            var environment = environment(server)
            environment["ANTHROPIC_API_KEY"] = "sk-ant-secret-marker"
            let eval = try await runPipe(
                ["eval", spec, "--dataset", dataset, "--format", "json", "--record", cassette], environment: environment)
            #expect(eval.status == 0, "\(eval.stderr)")
            recorded = try JSONParser.parse(eval.stdout)
        }
        let text = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 20)  // 10 items, 10 judge calls
        #expect(!text.contains("sk-ant-secret-marker"))
        // No server, no key: every call answered from the cassette.
        let replay = try await runPipe(
            ["eval", spec, "--dataset", dataset, "--format", "json", "--replay", cassette],
            environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        #expect(replay.status == 0, "\(replay.stderr)")
        let board = try JSONParser.parse(replay.stdout)
        #expect(board["evaluators"] == recorded["evaluators"])
        #expect(board["pipeline"] == recorded["pipeline"] && board["judges"] == recorded["judges"])
        // An item the recording never saw fails the pipeline for that item.
        try (String(contentsOfFile: dataset, encoding: .utf8)
            + #"{"input": {"id": "99", "text": "new"}, "expected": {"label": "L99"}}"# + "\n").write(toFile: dataset, atomically: true, encoding: .utf8)
        let miss = try await runPipe(
            ["eval", spec, "--dataset", dataset, "--format", "json", "--replay", cassette],
            environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        let missed = try JSONParser.parse(miss.stdout)
        let label = try evaluator(missed, "label-matches")
        #expect(label["passed"] == 8 && label["total"] == 11)
        #expect(miss.stderr.contains("not in the replay cassette"), "\(miss.stderr)")
    }

    @Test func theScoreboardCountsChecksAndTheJudgeAndPricesThemApart() async throws {
        _ = try writeTests(minimum: 0.8)
        try await withServer(wrong: [3, 7]) { server in
            let eval = try await runPipe(["eval", spec, "--dataset", dataset, "--format", "json", "--concurrency", "4"], environment: environment(server))
            #expect(eval.status == 0, "\(eval.stderr)")
            let board = try JSONParser.parse(eval.stdout)
            #expect(board["items"] == 10)
            let title = try evaluator(board, "has-title")
            #expect(title["passed"] == 10 && title["total"] == 10)
            let label = try evaluator(board, "label-matches")
            #expect(label["passed"] == 8 && label["pass_rate"]?.numberValue?.doubleValue == 0.8 && label["met"] == true)
            // Items 3 and 7, on lines 4 and 9 (a blank line before item 5).
            let failures = try #require(label["failures"]?.arrayValue)
            #expect(failures.map { $0["line"] } == [4, 9])
            #expect(failures.first?["reason"]?.stringValue == #"output.label: expected "L3", found "WRONG""#)
            let judged = try evaluator(board, "judged")
            // Items 0, 3, 6, 9 score 4, the six others 8.
            #expect(judged["passed"] == 6 && judged["mean_score"]?.numberValue?.doubleValue == 6.4)
            #expect(judged["failures"]?.arrayValue?.first?["reason"]?.stringValue?.contains("score 4; reason: judged 0") == true)
            // Ten pipeline calls and ten judge calls; each side's cost is its own output tokens at its price.
            #expect(server.log.filter { $0.model == "claude-test" }.count == 10)
            #expect(server.log.filter { $0.model == "claude-judge" }.count == 10)
            let pipelineOut = try #require(board["pipeline"]?["tokens"]?["output"]?.numberValue?.doubleValue)
            let judgeOut = try #require(board["judges"]?["tokens"]?["output"]?.numberValue?.doubleValue)
            #expect(pipelineOut > 0 && judgeOut > 0)
            #expect(abs((board["pipeline"]?["cost_usd"]?.numberValue?.doubleValue ?? 0) - pipelineOut) < 1e-6)
            #expect(abs((board["judges"]?["cost_usd"]?.numberValue?.doubleValue ?? 0) - 2 * judgeOut) < 1e-6)
            #expect(board["unmet"] == [])
            #expect(eval.stderr.contains("every min_pass_rate met"))

            // The text scoreboard says the same, with the failed items at their dataset lines.
            let text = try await runPipe(["eval", spec, "--dataset", dataset, "--quiet"], environment: environment(server))
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("label-matches (check): 8/10 passed (80%), min 80% met"), "\(text.stdout)")
            #expect(text.stdout.contains("judged (judge): 6/10 passed (60%), mean score 6.4, min 50% met"))
            #expect(text.stdout.contains("\(dataset):4: output.label: expected \"L3\", found \"WRONG\""))
        }
    }

    @Test func aPassRateNotMetExits1NamingTheEvaluator() async throws {
        _ = try writeTests(minimum: 0.9)
        try await withServer(wrong: [3, 7]) { server in
            let eval = try await runPipe(["eval", spec, "--dataset", dataset], environment: environment(server))
            #expect(eval.status == 1, "\(eval.stderr)")
            #expect(eval.stderr.contains("min_pass_rate not met: label-matches 80% < 90%"), "\(eval.stderr)")
            #expect(!eval.stderr.contains("judged 60%"))
            #expect(eval.stdout.contains("label-matches (check): 8/10 passed (80%), below min 90%"))
        }
    }

    @Test func compareShowsRegressionsAndImprovementsByDatasetLine() async throws {
        _ = try writeTests(minimum: 0.5)
        var first = ""
        try await withServer(wrong: [3, 7]) { server in
            let eval = try await runPipe(["eval", spec, "--dataset", dataset, "--quiet"], environment: environment(server))
            #expect(eval.status == 0, "\(eval.stderr)")
            first = try #require(eval.stdout.split(separator: "\n").first.map { String($0.split(separator: " ")[1].dropLast()) })
        }
        // Item 3 is now right (an improvement), item 1 wrong (a regression).
        try await withServer(wrong: [1, 7]) { server in
            let eval = try await runPipe(["eval", spec, "--dataset", dataset, "--compare", "last"], environment: environment(server))
            #expect(eval.status == 0, "\(eval.stderr)")
            #expect(eval.stdout.contains("compared with eval \(first): 1 regression, 1 improvement"), "\(eval.stdout)")
            #expect(eval.stdout.contains("regression label-matches \(dataset):2: output.label: expected \"L1\", found \"WRONG\""))
            #expect(eval.stdout.contains("improvement label-matches \(dataset):4"))

            let json = try await runPipe(["eval", spec, "--dataset", dataset, "--compare", first, "--format", "json"], environment: environment(server))
            let compare = try #require(try JSONParser.parse(json.stdout)["compare"])
            #expect(compare["previous"] == .string(first))
            #expect(compare["regressions"]?.arrayValue?.map { $0["line"] } == [2])
            #expect(compare["improvements"]?.arrayValue?.map { $0["line"] } == [4])

            // `pipe logs` lists the three evals with their pass rates.
            let logs = try await runPipe(["logs"], environment: environment(server))
            #expect(logs.status == 0, "\(logs.stderr)")
            #expect(logs.stdout.contains(first))
            #expect(logs.stdout.contains("has-title 100%, label-matches 80%, judged 60%"), "\(logs.stdout)")

            let missing = try await runPipe(["eval", spec, "--dataset", dataset, "--compare", "e1999"], environment: environment(server))
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("no eval `e1999` to compare with"))
        }
    }

    @Test func junitHasATestcasePerItemAndEvaluator() async throws {
        _ = try writeTests(minimum: 0.5)
        try await withServer(wrong: [3, 7]) { server in
            let output = folder.url.appendingPathComponent("eval.xml").path
            let eval = try await runPipe(["eval", spec, "--dataset", dataset, "--format", "junit", "--output", output], environment: environment(server))
            #expect(eval.status == 0, "\(eval.stderr)")
            let document = try XMLDocument(contentsOf: URL(fileURLWithPath: output))
            let root = try #require(document.rootElement())
            #expect(root.name == "testsuites")
            #expect(root.attribute(forName: "tests")?.stringValue == "30")
            #expect(root.attribute(forName: "failures")?.stringValue == "6")
            let suites = root.elements(forName: "testsuite")
            #expect(suites.map { $0.attribute(forName: "name")?.stringValue } == ["has-title", "label-matches", "judged"])
            let labels = suites[1].elements(forName: "testcase")
            #expect(labels.count == 10)
            let failed = labels.filter { !$0.elements(forName: "failure").isEmpty }
            #expect(failed.map { $0.attribute(forName: "name")?.stringValue } == ["\(dataset):4", "\(dataset):9"])
            #expect(failed.first?.elements(forName: "failure").first?.attribute(forName: "message")?.stringValue
                == #"output.label: expected "L3", found "WRONG""#)
        }
    }

    @Test func aBadEvalsSectionIsRefusedAtItsPositions() async throws {
        let bad = """
            spec: classify.yaml
            evals:
              - name: t
                check: { path: output.confidence, contains: "x" }
              - name: j
                judge:
                  model: judg
                  prompt: "{{ output.label }}"
                  output: { schema: { type: object, properties: { score: { type: integer } } } }
                  pass: grade >= 7
              - name: typo
                check: { path: output.label, equals: 3, lenght: 3 }
              - name: s
                judge: { model: judge, prompt: "p", output: { schema: { type: 12 } } }
            min_pass_rate: { jj: 0.5, t: 1.5 }
            """
        let tests = folder.url.appendingPathComponent("bad.test.yaml").path
        try bad.write(toFile: tests, atomically: true, encoding: .utf8)
        let decoded = EvalFileDecoder.decode(SourceFile(path: tests, bytes: Array(bad.utf8)))
        #expect(decoded.diagnostics.map(\.rule) == [.unknownKey])
        #expect(decoded.diagnostics.first?.span.start.description == "12:45")
        #expect(decoded.diagnostics.first?.hint == "did you mean `length`?")

        let fixed = bad.replacingOccurrences(of: ", lenght: 3", with: "")
        try fixed.write(toFile: tests, atomically: true, encoding: .utf8)
        let eval = try await runPipe(["eval", spec, "--tests", tests, "--dataset", dataset], environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        #expect(eval.status == 2)
        for expected in [
            "\(tests):4:39: error: `contains` \"x\" cannot match `output.confidence`, which is a number [type-mismatch]",
            "\(tests):7:14: error: the judge's model `judg` is not declared under the spec's `models:` [unknown-model]",
            "\(tests):10:13: error: `grade` is not in the judge's output schema [unknown-field]",
            "\(tests):12:34: error: an integer (3) cannot match `output.label`, which is a string [type-mismatch]",
            "\(tests):14:59: error: the judge's schema does not compile: ",
            "\(tests):15:18: error: `min_pass_rate` names `jj`, which is not an evaluator [unknown-reference]",
            "\(tests):15:30: error: a pass rate is between 0 and 1, found 1.5 [invalid-value]",
        ] {
            #expect(eval.stderr.contains(expected), "\(expected)\n--- got:\n\(eval.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: store), "nothing ran")

        let garbled = folder.url.appendingPathComponent("garbled.jsonl").path
        try "{\"input\": {\"id\": \"1\", \"text\": \"a\"}}\n{\"inptu\": 1}\nnot json\n".write(toFile: garbled, atomically: true, encoding: .utf8)
        _ = try writeTests(minimum: 0.5)
        let data = try await runPipe(["eval", spec, "--dataset", garbled], environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        #expect(data.status == 2)
        #expect(data.stderr.contains("\(garbled):2:1: error: the line has no `input`"), "\(data.stderr)")
        #expect(data.stderr.contains("\(garbled):3:1: error: not JSON"))

        let queue = try await runPipe(["eval", spec, "--dataset", dataset, "--queue", "postgres://x@127.0.0.1/db"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(queue.status == 2)
        #expect(queue.stderr.contains("embedded run store only"))
    }

    @Test func aKilledEvalResumesWithoutRunningEndedItemsAgain() async throws {
        _ = try writeTests(minimum: 0.5)
        // Items 0-4 answer at once; items 5-9 hang until the process is killed.
        let answering = Locked(false)
        let normal = Self.handler(wrong: [])
        let server = FakeLLMServer { request in
            if let id = Self.item(of: request), id >= 5, !request.prompt.contains("JUDGE"), !answering.withLock({ $0 }) { return .hang }
            return normal(request)
        }
        try server.start()
        defer { server.stop() }
        let live = try LivePipe(["eval", spec, "--dataset", dataset, "--concurrency", "10"], environment: environment(server))
        // The batch's items and lines are the dataset's (a blank line before item 5).
        #expect(try await live.waitForStderr("item 4 (line 5): succeeded"))
        while server.log.filter({ $0.model == "claude-test" }).count < 10 { try await Task.sleep(for: .milliseconds(10)) }
        live.send(SIGKILL)
        _ = await live.finish()
        answering.withLock { $0 = true }
        let before = server.log.filter { $0.model == "claude-test" }.count

        let resumed = try await runPipe(["eval", "--resume", "last", "--format", "json"], environment: environment(server))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let board = try JSONParser.parse(resumed.stdout)
        #expect(try evaluator(board, "label-matches")["passed"] == 10)
        // Only the five items that had not ended ran again.
        #expect(server.log.filter { $0.model == "claude-test" }.count - before == 5)
    }

    @Test func theExampleEvalRunsOfflineAndNamesWhatItMisses() async throws {
        let tests = Paths.pipelines.appendingPathComponent("evals/support-triage.test.yaml").path
        let golden = Paths.pipelines.appendingPathComponent("evals/support-triage.golden.jsonl").path
        let eval = try await runPipe(["eval", "--mock", "--tests", tests, "--dataset", golden, "--format", "json"], environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        // The mock classifies every ticket as billing, and its judge's score is below 7.
        #expect(eval.status == 1, "\(eval.stderr)")
        let board = try JSONParser.parse(eval.stdout)
        #expect(board["items"] == 6)
        #expect(board["evaluators"]?.arrayValue?.map { $0["name"] } == ["category-matches", "language-matches", "reply-is-substantial", "helpful-and-compliant"])
        #expect(board["unmet"] == ["category-matches", "helpful-and-compliant"])
        #expect(try evaluator(board, "category-matches")["passed"] == 2)
    }
}
