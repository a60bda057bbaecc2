import FakeLLM
import Foundation
import Synchronization
import Testing
@testable import PipeKit

/// `pipe run` against the fake server where replies, budgets and concurrency meet their
/// limits: what the user sees on stdout and stderr, and what the store keeps.
@Suite struct RunLimitsTests {
    static let anthropicKey = "sk-ant-REPLYSECRET-0123456789"
    static let openAIKey = "sk-proj-REPLYSECRET-9876543210"

    func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": Self.anthropicKey, "OPENAI_API_KEY": Self.openAIKey,
        ]
    }

    /// Writes `text` to `name` in `folder` and returns its path.
    func write(_ text: String, _ name: String, in folder: borrowing TemporaryFolder) throws -> String {
        let url = folder.url.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    // MARK: - Keys in replies

    @Test func aKeyEchoedInAReplyIsPrintedStoredAndShownNowhere() async throws {
        let folder = try TemporaryFolder("pipe-key-reply")
        let spec = try write("""
            version: 1
            models:
              claude: { provider: anthropic, model: claude-test }
              gpt: { provider: openai, model: gpt-test }
            defaults: { max_tokens: 200, retries: 0, timeout: 10s }
            stages:
              told:
                model: claude
                prompt: "STAGE told: what is your key?"
              structured:
                model: gpt
                prompt: "STAGE structured: {{ told }}"
                output: { schema: { type: object, required: [key], properties: { key: { type: string } } } }
            output:
              told: "{{ told }}"
              key: "{{ structured.key }}"
            """, "keys.yaml", in: folder)
        let server = FakeLLMServer { request in
            let key = request.header("x-api-key") ?? request.header("authorization")?.replacingOccurrences(of: "Bearer ", with: "") ?? ""
            return request.prompt.contains("STAGE told") ? .text("my key is \(key), keep it") : .text(#"{"key": "\#(key)"}"#)
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(["run", spec], stdin: "", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["told"] == "my key is <redacted>, keep it")
        #expect(output["key"] == "<redacted>")
        // The next stage was given the redacted reply, not the key.
        let structured = try #require(server.log.first { $0.request.prompt.contains("STAGE structured") })
        #expect(structured.request.prompt.contains("my key is <redacted>"))

        let logs = try await runPipe(["logs", "last", "--store", folder.storePath], environment: ["PATH": "/usr/bin:/bin"])
        let json = try await runPipe(["logs", "last", "--json", "--store", folder.storePath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(logs.status == 0 && json.status == 0, "\(logs.stderr) \(json.stderr)")
        #expect(json.stdout.contains("<redacted>"))
        var stored: [UInt8] = []
        let storeFolder = folder.url.appendingPathComponent(".pipe")
        // Every file under the store's folder (the database, its WAL, the runs' lock files).
        for case let name as String in FileManager.default.enumerator(atPath: storeFolder.path)! {
            let url = storeFolder.appendingPathComponent(name)
            if (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true { continue }
            stored += [UInt8](try Data(contentsOf: url))
        }
        #expect(!stored.isEmpty)
        for key in [Self.anthropicKey, Self.openAIKey] {
            for (place, text) in [("stdout", result.stdout), ("stderr", result.stderr), ("logs", logs.stdout), ("logs --json", json.stdout)] {
                #expect(!text.contains(key), "the key is in \(place)")
            }
            #expect(stored.firstRange(of: Array(key.utf8)) == nil, "the key is in the store")
        }
    }

    // MARK: - Budget stop

    @Test func aBudgetStopLetsTheCallInFlightFinishAndCountsItsUsage() async throws {
        let folder = try TemporaryFolder("pipe-budget-flight")
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        // `a` and `b` run in parallel. `b`'s first reply is invalid and long, so its re-ask
        // needs more than the budget has left: the run stops while `a` is still in flight.
        let spec = try write("""
            version: 1
            models: { claude: { provider: anthropic, model: claude-test } }
            defaults: { model: claude, timeout: 30s }
            budget: { max_tokens: 2000 }
            stages:
              a:
                max_tokens: 100
                retries: 0
                prompt: "STAGE a: a short answer"
              b:
                max_tokens: 500
                retries: 1
                prompt: "STAGE b: a flag"
                output: { schema: { type: object, required: [ok], properties: { ok: { type: boolean } } } }
            output:
              a: "{{ a }}"
              ok: "{{ b.ok }}"
            """, "budget.yaml", in: folder)
        let aArrived = DispatchSemaphore(value: 0)
        let server = FakeLLMServer { request in
            if request.prompt.contains("STAGE a") {
                aArrived.signal()
                // Answer only once the run has stopped at the budget: b's end is in the trace.
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline, !Self.traced(stageEnd: "b", in: trace) {
                    Thread.sleep(forTimeInterval: 0.02)
                }
                return .text("a finished")
            }
            _ = aArrived.wait(timeout: .now() + 20)
            return .text(#"{"wrong": "\#(String(repeating: "x", count: 8000))"}"#)
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(["run", spec, "--trace", trace], stdin: "", environment: environment(server))
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("token budget: stage `b` may need"))
        // `a` was answered after the stop, and finished: its usage is in the summary and the store.
        #expect(Self.traced(stageEnd: "b", in: trace))
        let summary = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("a ") })
        #expect(summary.contains("succeeded"), "\(result.stderr)")
        let json = try await runPipe(["logs", "last", "--json", "--store", folder.storePath], environment: ["PATH": "/usr/bin:/bin"])
        let run = try JSONParser.parse(json.stdout)
        #expect(run["status"] == "budget_exceeded")
        let stageA = try #require(run["stages"]?.arrayValue?.first { $0["stage"] == "a" })
        #expect(stageA["status"] == "succeeded")
        #expect(stageA["output"] == "a finished")
        let calls = run["calls"]?.arrayValue ?? []
        let callA = try #require(calls.first { $0["stage"] == "a" })
        #expect(callA["status"] == "ok")
        let aOut = try #require(callA["tokens_out"]?.numberValue?.intValue)
        #expect(aOut > 0)
        // The run's totals are the sum of every call the provider answered, a's included.
        let sum = calls.reduce(0) { $0 + ($1["tokens_out"]?.numberValue?.intValue ?? 0) }
        #expect(run["tokens_out"]?.numberValue?.intValue == sum)
        #expect(sum > aOut)
    }

    // MARK: - One worst case

    /// A stage with a sizeable output schema that reads the input.
    static func answerSpec(budget: Int, readsInput: Bool) -> String {
        """
        version: 1
        models: { m: { provider: mock } }
        defaults: { model: m, max_tokens: 300, retries: 0 }
        budget: { max_tokens: \(budget) }
        stages:
          answer:
            prompt: "Answer the question\(readsInput ? ": {{ input }}" : ".")"
            output: { schema: answer.schema.json }
        """
    }

    static let answerSchema = """
        {"type": "object", "required": ["answer", "sources", "confidence"], "properties": {
          "answer": {"type": "string", "description": "The answer, in two or three plain sentences, without Markdown."},
          "sources": {"type": "array", "items": {"type": "object", "required": ["title", "url"], "properties": {
            "title": {"type": "string", "description": "The title of the source as it is published."},
            "url": {"type": "string", "format": "uri", "description": "Where the source can be read."}}}},
          "confidence": {"type": "number", "minimum": 0, "maximum": 1, "description": "How sure the answer is, from 0 to 1."}}}
        """

    /// The "worst tokens" of a stage in a `--dry-run` plan.
    func dryRunWorst(_ spec: String, stage: String, input: String? = nil) async throws -> Int {
        let result = try await runPipe(["run", "--dry-run", spec] + (input.map { ["--input", $0] } ?? []))
        #expect(result.status == 0, "\(result.stderr)")
        let row = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("\(stage) ") })
        let cells = row.split(separator: " ")
        return try #require(Int(cells[cells.count - 2]), "\(row)")
    }

    @Test func theDryRunAndLintShowExactlyWhatTheRunReserves() async throws {
        let folder = try TemporaryFolder("pipe-worst-case")
        _ = try write(Self.answerSchema, "answer.schema.json", in: folder)
        let input = try write("Why is the sky blue, and why is the sunset red?\n", "question.txt", in: folder)
        let spec = folder.url.appendingPathComponent("answer.yaml").path

        // With the input: the dry run's figure is the run's reservation, to the token.
        try Self.answerSpec(budget: 100_000, readsInput: true).write(toFile: spec, atomically: true, encoding: .utf8)
        let worst = try await dryRunWorst(spec, stage: "answer", input: input)
        #expect(worst > 300 + TokenEstimate.tokens(forCharacters: Self.answerSchema.utf8.count))  // the schema counts
        try Self.answerSpec(budget: worst - 1, readsInput: true).write(toFile: spec, atomically: true, encoding: .utf8)
        let short = try await runPipe(["run", "--mock", "--no-store", spec, "--input", input])
        #expect(short.status == 4, "\(short.stderr)")
        #expect(short.stderr.contains("stage `answer` may need \(worst) tokens"), "\(short.stderr)")
        try Self.answerSpec(budget: worst, readsInput: true).write(toFile: spec, atomically: true, encoding: .utf8)
        let enough = try await runPipe(["run", "--mock", "--no-store", spec, "--input", input])
        #expect(enough.status == 0, "\(enough.stderr)")

        // Without the input, lint has the same figure as the dry run.
        try Self.answerSpec(budget: 100_000, readsInput: false).write(toFile: spec, atomically: true, encoding: .utf8)
        let bare = try await dryRunWorst(spec, stage: "answer")
        try Self.answerSpec(budget: bare - 1, readsInput: false).write(toFile: spec, atomically: true, encoding: .utf8)
        let lint = try await runPipe(["lint", spec])
        #expect(lint.stdout.contains("the run needs about \(bare) tokens, more than budget.max_tokens (\(bare - 1))"), "\(lint.stdout)")
        let run = try await runPipe(["run", "--mock", "--no-store", spec], stdin: "")
        #expect(run.stderr.contains("stage `answer` may need \(bare) tokens"), "\(run.stderr)")
        try Self.answerSpec(budget: bare, readsInput: false).write(toFile: spec, atomically: true, encoding: .utf8)
        #expect(try await runPipe(["lint", spec]).stdout.isEmpty)
    }

    // MARK: - Concurrency

    @Test(arguments: [(stage: 10, run: 2, bound: 2), (stage: 3, run: 8, bound: 3)])
    func everyCallIsWithinTheRunsAndTheStagesConcurrency(_ limits: (stage: Int, run: Int, bound: Int)) async throws {
        let folder = try TemporaryFolder("pipe-concurrency")
        let spec = try write("""
            version: 1
            models: { claude: { provider: anthropic, model: claude-test } }
            defaults: { model: claude, max_tokens: 50, retries: 0, timeout: 30s }
            stages:
              plan:
                prompt: "STAGE plan: twenty items"
                output: { schema: { type: object, required: [items], properties: { items: { type: array, items: { type: integer } } } } }
              each:
                for_each: plan.items
                concurrency: \(limits.stage)
                prompt: "STAGE each: {{ item }}"
            output: "{{ each }}"
            """, "fan.yaml", in: folder)
        let server = FakeLLMServer { request in
            request.prompt.contains("STAGE plan")
                ? .text(#"{"items": [\#((0..<20).map(String.init).joined(separator: ", "))]}"#)
                : .text("done").delayed(by: .milliseconds(50))
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["run", spec, "--no-store", "--concurrency", String(limits.run)], stdin: "", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.requestCount == 21)
        #expect(server.maxInFlight >= 1 && server.maxInFlight <= limits.bound, "\(server.maxInFlight) at once")
    }

    /// Whether the trace at `path` has the `stage_end` event of `stage`.
    static func traced(stageEnd stage: String, in path: String) -> Bool {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").contains { $0.contains(#""event":"stage_end""#) && $0.contains("\"stage\":\"\(stage)\"") }
    }
}
