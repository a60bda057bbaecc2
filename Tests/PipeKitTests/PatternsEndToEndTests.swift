import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Fan-out, loops and conditions, run by `pipe run` against the fake server.
@Suite struct PatternsEndToEndTests {
    static let fanout = Paths.testdata.appendingPathComponent("run/fanout.yaml").path
    static let loop = Paths.testdata.appendingPathComponent("run/loop.yaml").path

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k", "PIPE_STORE": "/dev/null/none"]
    }

    func prompts(_ server: FakeLLMServer, _ stage: String) -> [FakeLogEntry] {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }
    }

    func run(_ spec: String, _ server: FakeLLMServer, input: String = "tides") async throws -> CommandResult {
        try await runPipe(["run", "--no-store", spec], stdin: input, environment: environment(server))
    }

    @Test func fanOutRunsItemsInParallelAndKeepsTheirOrder() async throws {
        let server = FakeLLMServer { request in
            let stage = RunEndToEndTests.stage(of: request)
            if stage == "plan" { return .text(#"{"questions": ["q0", "q1", "q2", "q3"]}"#) }
            let item = request.prompt.components(separatedBy: ": ").last ?? ""
            // Later items answer sooner, so completion order is the reverse of item order.
            let delay = Duration.milliseconds(400 - 80 * (Int(item.dropFirst()) ?? 0))
            if stage == "work" { return FakeReply.text(#"{"answer": "a-\#(item)"}"#).delayed(by: delay) }
            return FakeReply.text("s-\(item)").delayed(by: delay)
        }
        try server.start()
        defer { server.stop() }
        let result = try await run(Self.fanout, server)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["answers"] == [["answer": "a-q0"], ["answer": "a-q1"], ["answer": "a-q2"], ["answer": "a-q3"]])
        #expect(output["strict"] == ["s-q0", "s-q1", "s-q2", "s-q3"])
        // At most 3 items of `work` at once, and they overlapped.
        let work = prompts(server, "work")
        #expect(work.count == 4)
        let inFlight = work.map { entry in work.filter { $0.arrival <= entry.arrival && ($0.completion ?? entry.arrival) > entry.arrival }.count }
        #expect(inFlight.max() == 3)
    }

    @Test func skipDropsAFailingItemButFailFailsTheStage() async throws {
        let server = FakeLLMServer { request in
            let stage = RunEndToEndTests.stage(of: request)
            if stage == "plan" { return .text(#"{"questions": ["good", "bad", "fine"]}"#) }
            let bad = request.prompt.contains("STAGE work: bad")
            if stage == "work" { return bad ? .text("not json") : .text(#"{"answer": "ok"}"#) }
            return .text("text")
        }
        try server.start()
        defer { server.stop() }
        let skipped = try await runPipe(["run", "--no-store", "--json", Self.fanout], stdin: "t", environment: environment(server))
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(try JSONParser.parse(skipped.stdout)["answers"]?.arrayValue?.count == 2)
        #expect(skipped.stderr.contains("work: done"))
        #expect(skipped.stderr.contains("skipped 1 item: item 1: "))
        #expect(prompts(server, "work").filter { $0.request.prompt.contains("STAGE work: bad") }.count == 2)  // a try and a retry

        // `strict` has on_item_error: fail (the default).
        let failing = FakeLLMServer { request in
            let stage = RunEndToEndTests.stage(of: request)
            if stage == "plan" { return .text(#"{"questions": ["good", "bad"]}"#) }
            if stage == "work" { return .text(#"{"answer": "ok"}"#) }
            return request.prompt.hasSuffix("bad") ? .error(status: 400, message: "no", type: "invalid_request_error") : .text("fine")
        }
        try failing.start()
        defer { failing.stop() }
        let failed = try await run(Self.fanout, failing)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("stage `strict` failed"))
        #expect(failed.stderr.contains("400 from anthropic"))
    }

    @Test func aLoopStopsEarlyWhenItsConditionHolds() async throws {
        let counts = Locked<[String: Int]>([:])
        let server = FakeLLMServer { request in
            let stage = RunEndToEndTests.stage(of: request)
            let iteration = counts.withLock { counts in
                counts[stage, default: 0] += 1
                return counts[stage]!
            }
            switch stage {
            case "writer": return .text("draft \(iteration)")
            case "critic": return .text(iteration == 1 ? #"{"score": 4, "notes": "too long"}"# : #"{"score": 9, "notes": "good"}"#)
            default: return .text("verdict for \(stage)")
            }
        }
        try server.start()
        defer { server.stop() }
        let result = try await run(Self.loop, server)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["score"] == 9)
        #expect(output["verdict"] == "verdict for good")
        #expect(output["bad"] == "skipped")
        let writers = prompts(server, "writer")
        #expect(writers.count == 2)
        #expect(prompts(server, "critic").count == 2)
        // The second iteration read the first one's critique; the first had none.
        #expect(writers[0].request.prompt.hasSuffix("previous critique: none"))
        #expect(writers[1].request.prompt.hasSuffix("previous critique: too long"))
        #expect(output["text"] == "draft 2")
        #expect(prompts(server, "bad").isEmpty)
    }

    @Test func aLoopStopsAtItsBound() async throws {
        let writes = Locked(0)
        let server = FakeLLMServer { request in
            switch RunEndToEndTests.stage(of: request) {
            case "writer":
                let number = writes.withLock { count in
                    count += 1
                    return count
                }
                return .text("draft \(number)")
            case "critic": return .text(#"{"score": 3, "notes": "again"}"#)
            default: return .text("verdict")
            }
        }
        try server.start()
        defer { server.stop() }
        let result = try await run(Self.loop, server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(prompts(server, "writer").count == 3)
        #expect(prompts(server, "critic").count == 3)
        let output = try JSONParser.parse(result.stdout)
        #expect(output["text"] == "draft 3")
        #expect(output["verdict"] == "verdict")
        #expect(prompts(server, "good").isEmpty)
        #expect(prompts(server, "bad").count == 1)
    }
}

@Suite struct MockFanOutTests {
    @Test func mockValuesGoToItemsByIndexWhateverTheOrderOfCalls() async throws {
        let pipeline = try compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              plan:
                prompt: "plan"
                output: { schema: { type: array, items: { type: string } } }
                mock: [[a, b, c, d, e, f]]
              work:
                for_each: plan
                concurrency: 6
                prompt: "work on {{ item }}"
                mock: [A, B, C, D, E, F]
            """)
        for _ in 0..<5 {
            let factory = ProviderFactory(
                environment: [:], forceMock: true,
                mockReplies: Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.mockReplies) }))
            let runner = try PipelineRunner(pipeline: pipeline) { model throws(ProviderError) in try factory.provider(for: model) }
            let result = await runner.run(input: "x")
            guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(output["work"] == ["A", "B", "C", "D", "E", "F"])
        }
    }
}
