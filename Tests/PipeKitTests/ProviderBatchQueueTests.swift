import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe batch --queue URL --provider-batch` and its `pipe worker`s on a real PostgreSQL
/// server (`PostgresServer`) against the fake server's batch API: two workers hand their
/// requests to the one that leads each model's batches, so each stage's provider batch is
/// submitted once, with the results of real-time mode, even when one worker's items reach the
/// stage later than the other's; a lead killed with `kill -9` while
/// polling is taken over by the other worker, which re-attaches to its batch instead of
/// submitting it again; `pipe batch cancel --queue` cancels the batches the workers recorded.
@Suite final class ProviderBatchQueueTests: Sendable {
    /// Its spec and input files.
    let files: ProviderBatchCommandTests

    init() throws {
        files = try ProviderBatchCommandTests()
    }

    func write(_ text: String, to name: String) throws -> String { try files.write(text, to: name) }
    func items(_ count: Int) throws -> String { try files.items(count) }

    /// The fake server, a key, a store for the real-time run; a window long enough on a busy
    /// machine for both workers' requests to reach the database before the lead submits.
    func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k",
            "PIPE_STORE": files.store, "PIPE_PROVIDER_BATCH_WINDOW_MS": "3000",
        ]
    }

    func count(_ sql: String, _ url: String) async throws -> Int {
        let database = try await PostgresClient.open(url: url)
        return try await database.withConnection { connection throws(PostgresError) in
            try connection.query(sql).first?.int("count") ?? 0
        }
    }

    /// Waits (at most a minute) until `sql`'s count is at least `least`.
    func waitFor(_ sql: String, atLeast least: Int, _ url: String) async throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(60) {
            if try await count(sql, url) >= least { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func twoWorkersSubmitEachStagesBatchOnceWithTheResultsOfRealTime() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(ProviderBatchCommandTests.spec(), to: "three.yaml")
        let input = try items(40)
        let server = FakeLLMServer(handler: ProviderBatchCommandTests.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(300)))
        try server.start()
        defer { server.stop() }
        let realtime = try await runPipe(["batch", spec, "--input", input, "--concurrency", "40"], environment: environment(server))
        #expect(realtime.status == 0, "\(realtime.stderr)")
        server.resetLog()

        // Enqueued only, with the choice recorded: the workers follow it without the flag.
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work", "--provider-batch"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        // Each worker claims half the items.
        let worker = ["worker", "--queue", url, "--concurrency", "20", "--exit-when-idle"]
        let workers = try (0..<2).map { _ in try LivePipe(worker, environment: environment(server)) }
        for live in workers {
            let ended = await live.finish()
            #expect(ended.status == 0, "\(ended.stderr)")
        }
        let claimedBy = try await count("SELECT count(DISTINCT worker) AS count FROM items", url)
        #expect(claimedBy == 2, "both workers ran items")

        // No real-time call; one provider batch a stage, holding both workers' requests.
        ProviderBatchCommandTests.expectOneBatchAStage(server, requests: 40)
        let recorded = try await count("SELECT count(*) AS count FROM provider_batches WHERE state = 'collected'", url)
        #expect(recorded == 3)

        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment(server))
        #expect(stored.status == 0, "\(stored.stderr)")
        try ProviderBatchCommandTests.expectRealTimeResultsAtHalfTheCost(realtime: realtime.stdout, batched: stored.stdout, count: 40)
    }

    /// A stage that waits until the file its item names exists, then two batched stages.
    static let gatedSpec = """
        version: 1
        name: gated
        input:
          schema: { type: object, required: [id, gate], properties: { id: { type: integer }, gate: { type: string } } }
        models:
          m: { provider: anthropic, model: claude-test, price: { input: 0.0, output: 2000000.0 } }
        defaults: { model: m, max_tokens: 100, retries: 2, timeout: 60s }
        stages:
          gate:
            run: [sh, -c, 'while [ ! -e "$0" ]; do sleep 0.02; done', "{{ input.gate }}"]
            env: { PATH: "${PATH}" }
          extract:
            prompt: "EXTRACT ITEM {{ input.id }}:{{ gate }}"
            output: { schema: { type: object, required: [topic], properties: { topic: { type: string } } } }
          classify:
            prompt: "CLASSIFY ITEM {{ input.id }}: {{ extract.topic }}"
            output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
        output: "{{ classify.label }}"
        """

    @Test func aWorkerWhoseItemsReachTheStageLaterStillHasTheirRequestsInTheStagesOneBatch() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(Self.gatedSpec, to: "gated.yaml")
        // Items 0-9 pass their gate when the file `a` exists, items 10-19 when `b` does.
        let gate = { (name: String) in self.files.folder.url.appendingPathComponent(name).path }
        let lines = (0..<20).map { #"{"id": \#($0), "gate": "\#(gate($0 < 10 ? "a" : "b"))"}"# }
        let input = try write(lines.joined(separator: "\n") + "\n", to: "gated.jsonl")
        let server = FakeLLMServer(handler: ProviderBatchCommandTests.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .milliseconds(300)))
        try server.start()
        defer { server.stop() }
        // A short window: a lead that submitted once no request had come for one would not
        // wait for the second worker's items.
        var environment = environment(server)
        environment["PIPE_PROVIDER_BATCH_WINDOW_MS"] = "200"
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work", "--provider-batch"], environment: environment)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        // The first worker claims items 0-9, the second 10-19.
        let worker = ["worker", "--queue", url, "--concurrency", "10", "--exit-when-idle"]
        let first = try LivePipe(worker, environment: environment)
        #expect(try await waitFor("SELECT count(*) AS count FROM items WHERE status = 'running'", atLeast: 10, url))
        let second = try LivePipe(worker, environment: environment)
        #expect(try await waitFor("SELECT count(*) AS count FROM items WHERE status = 'running'", atLeast: 20, url))

        // The first worker's items reach the batched stage and hand their requests in; the
        // second's are held at their gate for five of the lead's windows, then let through.
        #expect(FileManager.default.createFile(atPath: gate("a"), contents: Data()))
        #expect(try await waitFor("SELECT count(*) AS count FROM provider_batch_requests", atLeast: 10, url))
        try await Task.sleep(for: .seconds(1))
        #expect(server.batches.isEmpty, "a batch was submitted while items in flight had not handed their requests in")
        #expect(FileManager.default.createFile(atPath: gate("b"), contents: Data()))
        for live in [first, second] {
            let ended = await live.finish()
            #expect(ended.status == 0, "\(ended.stderr)")
        }

        // One provider batch a stage, with the requests of both workers' items.
        let batches = server.batches
        #expect(batches.map(\.customIDs.count) == [20, 20])
        #expect(batches.map { Set($0.customIDs.map { $0.split(separator: "-")[1] }) } == [["extract"], ["classify"]])
        ProviderBatchCommandTests.expectNoRequestSubmittedTwice(server)
        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment)
        let results = try BatchCommandTests.results(stored.stdout)
        #expect((0..<20).allSatisfy { results[$0]?["output"] == .string("L\($0)") }, "\(stored.stdout)")
    }

    @Test func aLeadKilledWhilePollingIsTakenOverAndItsBatchIsNotSubmittedAgain() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(ProviderBatchCommandTests.spec(), to: "three.yaml")
        let input = try items(20)
        let server = FakeLLMServer(handler: ProviderBatchCommandTests.reply)
        // Long enough for the kill to land while the first batch is polled.
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(4)))
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work", "--provider-batch"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let worker = ["worker", "--queue", url, "--exit-when-idle", "--lease-seconds", "3"]
        // The doomed worker claims every item (its concurrency is 10,000 for this batch).
        let doomed = try LivePipe(worker, environment: environment(server))
        #expect(try await waitFor("SELECT count(*) AS count FROM items WHERE status = 'running'", atLeast: 20, url))
        let other = try LivePipe(worker, environment: environment(server))
        // Killed once its first batch is recorded: it led, and polls it.
        #expect(try await waitFor("SELECT count(*) AS count FROM provider_batches", atLeast: 1, url))
        doomed.send(SIGKILL)
        #expect(await doomed.finish().status == SIGKILL)
        #expect(server.batches.count == 1)

        // The other worker reclaims the items when their leases lapse, takes the lead, polls
        // the batch in flight and finishes every item.
        let ended = await other.finish()
        #expect(ended.status == 0, "\(ended.stderr)")
        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment(server))
        let lines = try BatchCommandTests.results(stored.stdout)
        #expect((0..<20).allSatisfy { lines[$0]?["output"] == .string("S\($0)") }, "\(stored.stdout)")
        // The first stage's batch was collected by the new lead, not submitted again.
        #expect(server.batches.count == 3)
        #expect(server.batches.filter { $0.customIDs.contains("i0-extract-a1") }.count == 1)
        ProviderBatchCommandTests.expectNoRequestSubmittedTwice(server)
        let reclaimed = try await count("SELECT count(*) AS count FROM items WHERE claims >= 2", url)
        #expect(reclaimed == 20)
    }

    @Test func cancelWithTheQueueCancelsTheBatchesTheWorkersRecorded() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(ProviderBatchCommandTests.spec(), to: "three.yaml")
        let input = try items(5)
        let server = FakeLLMServer(handler: ProviderBatchCommandTests.reply)
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(600)))
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work", "--provider-batch"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let worker = try LivePipe(["worker", "--queue", url], environment: environment(server))
        #expect(try await waitFor("SELECT count(*) AS count FROM provider_batches", atLeast: 1, url))
        worker.send(SIGKILL)
        _ = await worker.finish()
        // No spec file needed: the batch carries it.
        try FileManager.default.removeItem(atPath: spec)
        let cancel = try await runPipe(["batch", "cancel", "last", "--queue", url], environment: environment(server))
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let id = try #require(server.batches.first?.id)
        #expect(cancel.stderr.contains("canceled provider batch \(id) (anthropic claude-test, 5 requests)"), "\(cancel.stderr)")
        #expect(server.batches.map(\.canceled) == [true])
        let again = try await runPipe(["batch", "cancel", "last", "--queue", url], environment: environment(server))
        #expect(again.status == 0)
        #expect(again.stderr.contains("has no provider batch in flight"))
    }
}
