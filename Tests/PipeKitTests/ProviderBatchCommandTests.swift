import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe batch --provider-batch` against the fake server's batch APIs: a 3-stage pipeline
/// whose requests go in one provider batch per stage, with the same results as real time at
/// half the cost; a schema-breaking reply re-asked in the next batch; expired and errored
/// requests retried in a new batch, or in real time with `--batch-fallback realtime`.
@Suite(.serialized) final class ProviderBatchCommandTests: Sendable {
    let folder: TemporaryFolder
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-provider-batch")
        store = folder.url.appendingPathComponent("runs.db").path
    }

    /// Three stages in a chain; every prompt names the item. An output token costs $2 in real
    /// time (so $1 in a batch), an input token nothing.
    static func spec(provider: String = "anthropic", model: String = "claude-test") -> String {
        """
        version: 1
        name: three
        input:
          schema: { type: object, required: [id], properties: { id: { type: integer } } }
        models:
          m: { provider: \(provider), model: \(model), price: { input: 0.0, output: 2000000.0 } }
        defaults: { model: m, max_tokens: 100, retries: 2, timeout: 60s }
        stages:
          extract:
            prompt: "EXTRACT ITEM {{ input.id }}:"
            output: { schema: { type: object, required: [topic], properties: { topic: { type: string } } } }
          classify:
            prompt: "CLASSIFY ITEM {{ input.id }}: {{ extract.topic }}"
            output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
          summarize:
            prompt: "SUMMARIZE ITEM {{ input.id }}: {{ classify.label }}"
            output: { schema: { type: object, required: [summary], properties: { summary: { type: string } } } }
        output: "{{ summarize.summary }}"
        """
    }

    /// The stage and item a request is for, from its prompt (`CLASSIFY ITEM 17: ...`).
    static func parts(_ request: FakeRequest) -> (stage: String, item: Int)? {
        for stage in ["EXTRACT", "CLASSIFY", "SUMMARIZE"] {
            guard let range = request.prompt.range(of: "\(stage) ITEM ") else { continue }
            guard let item = Int(request.prompt[range.upperBound...].prefix { $0 != ":" }) else { return nil }
            return (stage, item)
        }
        return nil
    }

    static func reply(_ request: FakeRequest) -> FakeReply {
        guard let (stage, item) = parts(request) else { return .error(status: 400, message: "unknown request") }
        switch stage {
        case "EXTRACT": return .text(#"{"topic": "T\#(item)"}"#)
        case "CLASSIFY": return .text(#"{"label": "L\#(item)"}"#)
        default: return .text(#"{"summary": "S\#(item)"}"#)
        }
    }

    /// A fake server answering as `reply`, except the first request of each stage and item
    /// named in `firstReplies` (`"EXTRACT 5"`), which gets the reply given there.
    static func server(firstReplies: [String: FakeReply]) -> FakeLLMServer {
        let asked = Locked([String: Int]())
        return FakeLLMServer { request in
            guard let (stage, item) = Self.parts(request) else { return .error(status: 400, message: "unknown request") }
            let key = "\(stage) \(item)"
            let times = asked.withLock { seen in
                seen[key, default: 0] += 1
                return seen[key]!
            }
            if times == 1, let first = firstReplies[key] { return first }
            return Self.reply(request)
        }
    }

    func environment(_ server: FakeLLMServer, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "PIPE_STORE": store,
            // A batch is submitted once no request has come for this long: ample on a busy machine.
            "PIPE_PROVIDER_BATCH_WINDOW_MS": "1500",
        ].merging(extra) { $1 }
    }

    func write(_ text: String, to name: String) throws -> String {
        let path = folder.url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func items(_ count: Int) throws -> String {
        try write((0..<count).map { #"{"id": \#($0)}"# + "\n" }.joined(), to: "items-\(count).jsonl")
    }

    static func isCustomID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// Every custom_id of every batch the server received: none twice, each within the pattern.
    static func expectNoRequestSubmittedTwice(_ server: FakeLLMServer) {
        let ids = server.batches.flatMap(\.customIDs)
        #expect(Set(ids).count == ids.count, "a custom_id was submitted twice")
        #expect(ids.allSatisfy(isCustomID))
    }

    /// No real-time call: every request went in a batch, one batch a stage of `requests` each.
    static func expectOneBatchAStage(_ server: FakeLLMServer, requests: Int) {
        #expect(server.log.allSatisfy { $0.path.hasPrefix("/v1/messages/batches") }, "\(server.log.map(\.path))")
        let batches = server.batches
        #expect(batches.map(\.customIDs.count) == [requests, requests, requests])
        #expect(batches.map { Set($0.customIDs.map { $0.split(separator: "-")[1] }) } == [["extract"], ["classify"], ["summarize"]])
        expectNoRequestSubmittedTwice(server)
    }

    /// Every item's output and tokens as in real time, its cost half.
    static func expectRealTimeResultsAtHalfTheCost(realtime: String, batched: String, count: Int) throws {
        let before = try BatchCommandTests.results(realtime)
        let after = try BatchCommandTests.results(batched)
        #expect(after.count == count)
        for item in 0..<count {
            let real = try #require(before[item]), batch = try #require(after[item])
            #expect(batch["status"] == "succeeded")
            #expect(batch["output"] == real["output"])
            #expect(batch["output"] == .string("S\(item)"))
            #expect(batch["tokens"] == real["tokens"])
            let realCost = try #require(real["cost_usd"]?.numberValue?.doubleValue)
            let batchCost = try #require(batch["cost_usd"]?.numberValue?.doubleValue)
            #expect(realCost > 0)
            #expect(abs(batchCost - realCost / 2) < 1e-9, "item \(item): \(batchCost) is not half of \(realCost)")
        }
    }

    @Test func threeStagesGoInOneBatchEachWithRealTimeResultsAtHalfTheCost() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(200)
        let server = FakeLLMServer(handler: Self.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(300)))
        try server.start()
        defer { server.stop() }

        let realtime = try await runPipe(["batch", spec, "--input", input, "--concurrency", "50"], environment: environment(server))
        #expect(realtime.status == 0, "\(realtime.stderr)")
        #expect(server.batches.isEmpty)
        let realtimeCalls = server.requestCount
        server.resetLog()

        let batched = try await runPipe(["batch", spec, "--input", input, "--provider-batch"], environment: environment(server))
        #expect(batched.status == 0, "\(batched.stderr)")
        let batches = server.batches
        Self.expectOneBatchAStage(server, requests: 200)
        #expect(batches.reduce(0) { $0 + $1.customIDs.count } == realtimeCalls)
        Self.expectNoRequestSubmittedTwice(server)
        #expect(batched.stderr.contains("provider batch \(batches[0].id) (anthropic claude-test): 200 requests submitted"), "\(batched.stderr)")
        #expect(batched.stderr.contains("provider batch \(batches[2].id) ended: 200 succeeded, 0 errored, 0 expired, 0 canceled"))

        try Self.expectRealTimeResultsAtHalfTheCost(realtime: realtime.stdout, batched: batched.stdout, count: 200)
    }

    @Test func aBrokenReplyIsReAskedAndExpiredAndErroredRequestsGoInTheNextBatch() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(60)
        // Item 5's first extract breaks the schema; item 9's first classify is overloaded.
        let server = Self.server(firstReplies: [
            "EXTRACT 5": .text(#"{"topic": 5}"#), "CLASSIFY 9": .error(status: 529, message: "overloaded"),
        ])
        // Item 7's first summarize expires.
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(200)) { customID, _ in customID == "i7-summarize-a1" })
        try server.start()
        defer { server.stop() }

        let result = try await runPipe(["batch", spec, "--input", input, "--provider-batch"], environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try BatchCommandTests.results(result.stdout)
        #expect((0..<60).allSatisfy { lines[$0]?["output"] == .string("S\($0)") })
        Self.expectNoRequestSubmittedTwice(server)
        let batches = server.batches
        func batch(holding id: String) -> Int? { batches.firstIndex { $0.customIDs.contains(id) } }
        // The re-ask (with the validation errors) goes in the next round's batch, beside the
        // next stage's requests of the other items.
        let first = try #require(batch(holding: "i5-extract-a1")), reAsk = try #require(batch(holding: "i5-extract-a2"))
        #expect(first < reAsk)
        #expect(batches[reAsk].customIDs.contains("i0-classify-a1"))
        let reAskBody = try #require(server.log.first { $0.path == "/v1/messages/batches" && $0.request.bodyText.contains("i5-extract-a2") })
        #expect(reAskBody.request.bodyText.contains("topic"))
        // The errored (overloaded) and expired requests, resubmitted in later batches.
        #expect(try #require(batch(holding: "i9-classify-a1")) < (try #require(batch(holding: "i9-classify-a2"))))
        #expect(try #require(batch(holding: "i7-summarize-a1")) < (try #require(batch(holding: "i7-summarize-a2"))))
        #expect(result.stderr.contains("0 errored, 1 expired"), "\(result.stderr)")
        // Nothing went in real time.
        #expect(!server.log.contains { $0.path == "/v1/messages" })
    }

    @Test func batchFallbackRealtimeAnswersAnExpiredRequestInRealTime() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(10)
        let server = FakeLLMServer(handler: Self.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(100)) { customID, _ in customID == "i3-classify-a1" })
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["batch", spec, "--input", input, "--provider-batch", "--batch-fallback", "realtime"], environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try BatchCommandTests.results(result.stdout)
        #expect(lines[3]?["output"] == "S3")
        let realtime = server.log.filter { $0.path == "/v1/messages" }
        #expect(realtime.count == 1)
        #expect(realtime.first?.request.prompt.contains("CLASSIFY ITEM 3:") == true)
        #expect(server.batches.count == 3)
    }

    @Test func openAIBatchesAndTheLimitSplitsBatches() async throws {
        let spec = try write(Self.spec(provider: "openai", model: "gpt-test"), to: "openai.yaml")
        let input = try items(25)
        let server = FakeLLMServer(handler: Self.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(100)))
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["batch", spec, "--input", input, "--provider-batch"], environment: environment(server, ["PIPE_PROVIDER_BATCH_MAX_REQUESTS": "10"]))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try BatchCommandTests.results(result.stdout)
        #expect((0..<25).allSatisfy { lines[$0]?["output"] == .string("S\($0)") })
        // 25 requests a stage, 10 a batch at most: 3 batches a stage, the fewest possible.
        #expect(server.batches.map(\.api) == Array(repeating: .openAI, count: 9))
        #expect(server.batches.map(\.customIDs.count).sorted() == [5, 5, 5, 10, 10, 10, 10, 10, 10])
        Self.expectNoRequestSubmittedTwice(server)
        #expect(server.log.contains { $0.path == "/v1/files" })
    }

    @Test func killedWhilePollingThenResumedReAttachesInsteadOfSubmittingAgain() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(40)
        let server = FakeLLMServer(handler: Self.reply)
        // Long enough for the kill to land while the first batch is polled.
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(4)))
        try server.start()
        defer { server.stop() }
        let live = try LivePipe(["batch", spec, "--input", input, "--provider-batch"], environment: environment(server))
        #expect(try await live.waitForStderr("40 requests submitted"))
        live.send(SIGKILL)
        _ = await live.finish()
        #expect(server.batches.count == 1)

        let resumed = try await runPipe(["batch", "--resume", "last", "--provider-batch"], environment: environment(server))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("provider batch \(server.batches[0].id) (anthropic claude-test): 40 requests in flight; re-attached"))
        let lines = try BatchCommandTests.results(resumed.stdout)
        #expect((0..<40).allSatisfy { lines[$0]?["output"] == .string("S\($0)") })
        // The first stage's batch was collected, not submitted again: one batch a stage.
        #expect(server.batches.count == 3)
        #expect(server.batches.filter { $0.customIDs.contains("i0-extract-a1") }.count == 1)
        Self.expectNoRequestSubmittedTwice(server)
    }

    @Test func killedWhileAReAskIsInFlightThenResumedSendsNothingTwice() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(12)
        // Item 5's first extract breaks the schema: it is re-asked in the second batch.
        let server = Self.server(firstReplies: ["EXTRACT 5": .text(#"{"topic": 5}"#)])
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(3)))
        try server.start()
        defer { server.stop() }
        let live = try LivePipe(["batch", spec, "--input", input, "--provider-batch"], environment: environment(server))
        // Killed once the re-ask's batch is submitted and recorded, while it is polled (not in
        // the moment between the provider's answer and the record: README says what that loses).
        let deadline = ContinuousClock.now + .seconds(60)
        while server.batches.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try #require(server.batches.count == 2)
        #expect(try await live.waitForStderr("provider batch \(server.batches[1].id) (anthropic claude-test): 12 requests submitted"))
        live.send(SIGKILL)
        _ = await live.finish()
        try #require(server.batches.count == 2)
        #expect(server.batches[1].customIDs.contains("i5-extract-a2"))

        let resumed = try await runPipe(["batch", "--resume", "last", "--provider-batch"], environment: environment(server))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("provider batch \(server.batches[1].id) (anthropic claude-test): 12 requests in flight; re-attached"))
        let lines = try BatchCommandTests.results(resumed.stdout)
        #expect((0..<12).allSatisfy { lines[$0]?["output"] == .string("S\($0)") })
        // Item 5's first extract was read again from the first batch, and its re-ask collected
        // from the second: the new batches hold only what nobody had asked yet, the last stage
        // of every item and item 5's classify (one stage behind the others).
        let new = server.batches.dropFirst(2).flatMap(\.customIDs)
        #expect(Set(new) == Set((0..<12).map { "i\($0)-summarize-a1" } + ["i5-classify-a1"]), "\(new)")
        Self.expectNoRequestSubmittedTwice(server)
    }

    @Test func cancelStopsTheProviderBatchesInFlight() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(5)
        let server = FakeLLMServer(handler: Self.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(600)))
        try server.start()
        defer { server.stop() }
        let live = try LivePipe(["batch", spec, "--input", input, "--provider-batch"], environment: environment(server))
        #expect(try await live.waitForStderr("5 requests submitted"))
        live.send(SIGKILL)
        _ = await live.finish()
        let cancel = try await runPipe(["batch", "cancel", "last"], environment: environment(server))
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let id = try #require(server.batches.first?.id)
        #expect(cancel.stderr.contains("canceled provider batch \(id) (anthropic claude-test, 5 requests)"), "\(cancel.stderr)")
        #expect(server.batches.map(\.canceled) == [true])
        let again = try await runPipe(["batch", "cancel", "last"], environment: environment(server))
        #expect(again.status == 0)
        #expect(again.stderr.contains("has no provider batch in flight"))
    }

    @Test func dryRunShowsTheRealTimeAndTheBatchPrice() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let plan = try await runPipe(["run", "--dry-run", spec])
        #expect(plan.status == 0, "\(plan.stderr)")
        func dollars(_ text: Substring) -> Double? { Double(text.filter { $0.isNumber || $0 == "." }) }
        let total = try #require(plan.stdout.split(separator: "\n").first { $0.hasPrefix("total") })
        let realtime = try #require(total.split(separator: " ").last.flatMap(dollars))
        let line = try #require(plan.stdout.split(separator: "\n").first { $0.hasPrefix("in provider batches (pipe batch --provider-batch): worst cost ") })
        let batch = try #require(line.split(separator: " ").last.flatMap(dollars))
        #expect(realtime > 0)
        #expect(abs(batch - realtime / 2) <= realtime * 0.01, "\(plan.stdout)")
    }

    @Test func maxCostIsCheckedBeforeEachSubmission() async throws {
        let spec = try write(Self.spec(), to: "three.yaml")
        let input = try items(10)
        let server = FakeLLMServer(handler: Self.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(100)))
        try server.start()
        defer { server.stop() }
        // The first stage's batch costs more than $1 (an output token is $1 in a batch): the
        // second is not submitted.
        let result = try await runPipe(
            ["batch", spec, "--input", input, "--provider-batch", "--max-cost-usd", "1"], environment: environment(server))
        #expect(result.status != 0)
        #expect(server.batches.count == 1)
        let lines = try BatchCommandTests.results(result.stdout)
        #expect(lines[0]?["status"] == "failed")
        #expect(lines[0]?["error"]?.stringValue?.contains("--max-cost-usd 1.0 reached") == true, "\(lines[0] ?? .null)")
    }
}
