import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe batch --queue` and `pipe worker` on a real PostgreSQL server (`PostgresServer`)
/// against the fake server, run as users run them: workers share a batch, one is killed with
/// `kill -9` and its items are reclaimed when their leases lapse, without paying twice; a
/// batch only enqueued is finished by a worker that has no spec file.
@Suite final class PostgresWorkerTests: Sendable {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder("pipe-worker")
    }

    func write(_ text: String, to name: String) throws -> String {
        let path = folder.url.appendingPathComponent(name).path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The fake server's address and a key; nothing else from the test's environment.
    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k"]
    }

    func results(_ text: String) throws -> [Int: JSONValue] { try BatchCommandTests.results(text) }

    @Test func threeWorkersShareABatchAndOneKilledLosesOnlyItsCallsInFlight() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(BatchCommandTests.specText, to: "classify.yaml")
        let count = 60
        let input = try write(
            (0..<count).map { #"{"id": "\#($0 + 1)", "text": "t"}"# }.joined(separator: "\n"), to: "items.jsonl")
        let server = FakeLLMServer { BatchCommandTests.reply($0).delayed(by: .milliseconds(50)) }
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(server.requestCount == 0)
        let worker = ["worker", "--queue", url, "--concurrency", "4", "--exit-when-idle", "--lease-seconds", "3"]
        let doomed = try LivePipe(worker, environment: environment(server))
        let others = try (0..<2).map { _ in try LivePipe(worker, environment: environment(server)) }
        // Ordered by the database and the server's log: kill once the doomed worker holds items
        // and has a run under way, and the server has seen calls.
        let database = try await PostgresClient.open(url: url)
        let held = "SELECT count(*) AS count FROM items WHERE status = 'running' AND worker LIKE '% pid \(doomed.pid) %'"
            + " AND EXISTS (SELECT 1 FROM runs WHERE status = 'running' AND pid = \(doomed.pid))"
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(60) {
            let holding = try await database.withConnection { connection throws(PostgresError) in
                try connection.query(held).first?.int("count") ?? 0
            }
            if holding > 0, server.requestCount >= 8 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        doomed.send(SIGKILL)
        #expect(await doomed.finish().status == SIGKILL)
        let before = Set(server.log.map { BatchCommandTests.item(of: $0.request) ?? -1 })
        for other in others {
            let ended = await other.finish()
            #expect(ended.status == 0, "\(ended.stderr)")
        }

        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment(server))
        #expect(stored.status == 0, "\(stored.stderr)")
        let lines = try results(stored.stdout)
        #expect(lines.keys.sorted() == Array(0..<count))
        #expect(lines.values.allSatisfy {
            $0["status"] == ((($0["item"]?.numberValue?.intValue ?? 0) + 1) % 23 == 0 ? "failed" : "succeeded")
        })
        // The lease reclaim: items the killed worker held were claimed again.
        let reclaimed = try await database.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT item FROM items WHERE claims >= 2").compactMap { $0.int("item") }
        }
        #expect(!reclaimed.isEmpty)
        // No call twice, but for the killed worker's calls in flight (at most its --concurrency)
        // and those whose answers had come but whose records were not yet committed (their
        // slots had gone to the next items: at most --concurrency more), each an item that was
        // reclaimed.
        var calls: [Int: Int] = [:]
        for entry in server.log { calls[BatchCommandTests.item(of: entry.request) ?? -1, default: 0] += 1 }
        let repeated = calls.filter { $0.value > 1 }
        #expect(repeated.values.allSatisfy { $0 == 2 })
        #expect(repeated.count <= 8, "\(repeated)")
        #expect(repeated.keys.allSatisfy { before.contains($0) && reclaimed.contains($0 - 1) })
        #expect(Set(calls.keys) == Set(1...count))
        // Every item's run is recorded in PostgreSQL, as the embedded store records it.
        let runs = try await runPipe(["logs", "--queue", url, "--limit", "100"], environment: environment(server))
        #expect(runs.status == 0, "\(runs.stderr)")
        #expect(runs.stdout.contains("classify"))
        let run = try #require(lines[0]?["run"]?.stringValue)
        let shown = try await runPipe(["logs", run, "--queue", url], environment: environment(server))
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("classify"))
        // The killed worker's runs, left `running` in the table, show as interrupted: their
        // items were taken over (no live lease names them).
        let abandoned = try await database.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT id FROM runs WHERE status = 'running' AND pid = \(doomed.pid)").compactMap { $0["id"] }
        }
        #expect(!abandoned.isEmpty)
        for id in abandoned {
            let log = try await runPipe(["logs", id, "--queue", url], environment: environment(server))
            #expect(log.stdout.contains("interrupted"), "\(log.stdout)")
        }
    }

    /// An item's run start is queued, not awaited: its call goes out while the start still
    /// waits in PostgreSQL (here behind a lock on `runs`). A worker killed then, whose start
    /// never got committed, loses the item's run and nothing else: the item is claimed again
    /// once its lease lapses, run again, and recorded once.
    @Test func aKilledWorkersItemWhoseQueuedStartNeverReachedTheDatabaseIsRunAgainAndRecordedOnce() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(BatchCommandTests.specText, to: "classify.yaml")
        let input = try write(#"{"id": "1", "text": "t"}"#, to: "items.jsonl")
        let server = FakeLLMServer { BatchCommandTests.reply($0) }
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let database = try await PostgresClient.open(url: url)
        // A session of its own holds the lock until it commits.
        let locker = database.session()
        try await locker.withConnection { connection throws(PostgresError) in
            try connection.execute("BEGIN")
            try connection.execute("LOCK TABLE runs IN EXCLUSIVE MODE")
        }
        let worker = ["worker", "--queue", url, "--concurrency", "1", "--exit-when-idle", "--lease-seconds", "3"]
        let doomed = try LivePipe(worker, environment: environment(server))
        // Ordered by the server's log and the database: the item's call was answered while its
        // run's start waits for the lock.
        let waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO runs%'"
        var blocked: [Int] = []
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(60) {
            blocked = try await database.withConnection { connection throws(PostgresError) in
                try connection.query(waiting).compactMap { $0.int("pid") }
            }
            if !blocked.isEmpty, server.requestCount >= 1 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(server.requestCount == 1 && blocked.count == 1)
        doomed.send(SIGKILL)
        #expect(await doomed.finish().status == SIGKILL)
        // The killed worker's transaction ends without a commit: its start never reaches the table.
        try await database.withConnection { [blocked] connection throws(PostgresError) in
            for pid in blocked { try connection.execute("SELECT pg_terminate_backend($1)", [pid]) }
        }
        try await locker.withConnection { connection throws(PostgresError) in try connection.execute("COMMIT") }
        let unrecorded = try await database.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT count(*) AS count FROM runs").first?.int("count")
        }
        #expect(unrecorded == 0)

        let other = try await LivePipe(worker, environment: environment(server)).finish()
        #expect(other.status == 0, "\(other.stderr)")
        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment(server))
        let lines = try results(stored.stdout)
        #expect(lines.count == 1 && lines[0]?["status"] == "succeeded", "\(stored.stdout)")
        // Claimed twice, its call made twice (the killed worker's was in flight as far as the
        // database knows), one run recorded: the one the item names, with its call and stage.
        let rows = try await database.withConnection { connection throws(PostgresError) in
            try connection.query(
                """
                SELECT items.claims, items.run_id, runs.id, runs.status,
                    (SELECT count(*) FROM calls WHERE calls.run_id = runs.id) AS calls,
                    (SELECT count(*) FROM stages WHERE stages.run_id = runs.id) AS stages
                FROM items JOIN runs ON runs.batch_id = items.batch_id AND runs.item = items.item
                """)
        }
        #expect(rows.count == 1, "\(rows.map(\.values))")
        #expect(rows.first?.int("claims") == 2 && rows.first?["run_id"] == rows.first?["id"])
        #expect(rows.first?["run_id"] == lines[0]?["run"]?.stringValue && rows.first?["status"] == "succeeded")
        #expect(rows.first?.int("calls") == 1 && rows.first?.int("stages") == 1)
        #expect(server.requestCount == 2)
    }

    /// The submitter's results carry one line per item, also for the items another worker ran
    /// (read back from the queue), as the embedded batch's do.
    @Test func aSubmittersResultsHaveALineForEveryItemWhicheverWorkerRanIt() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(BatchCommandTests.specText, to: "classify.yaml")
        let count = 8
        let input = try write((1...count).map { #"{"id": "\#($0)", "text": "t"}"# }.joined(separator: "\n"), to: "items.jsonl")
        // Slow calls: the submitter, one item at a time, holds at most two items while the
        // worker (which looks for batches every second) claims the others.
        let server = FakeLLMServer { BatchCommandTests.reply($0).delayed(by: .seconds(1)) }
        try server.start()
        defer { server.stop() }
        let worker = try LivePipe(["worker", "--queue", url, "--concurrency", "3"], environment: environment(server))
        #expect(try await worker.waitForStderr("pipe: worker"))
        let batch = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--concurrency", "1"], environment: environment(server))
        worker.send(SIGTERM)
        _ = await worker.finish()
        #expect(batch.status == 0, "\(batch.stderr)")
        let database = try await PostgresClient.open(url: url)
        let workers = try await database.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT count(DISTINCT worker) AS count FROM items").first?.int("count")
        }
        try #require(workers == 2, "both the submitter and the worker ran items")
        let lines = try results(batch.stdout)
        #expect(lines.keys.sorted() == Array(0..<count))
        #expect(batch.stdout.split(separator: "\n").count == count)
        #expect(lines.values.allSatisfy { $0["status"] == "succeeded" })
    }

    @Test func aBatchOnAQueueIsWorkedOnBySubmitterAndResumeFindsNothingLeft() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(BatchCommandTests.specText, to: "classify.yaml")
        let input = try write((1...30).map { #"{"id": "\#($0)", "text": "t"}"# }.joined(separator: "\n"), to: "items.jsonl")
        let server = FakeLLMServer(handler: BatchCommandTests.reply)
        try server.start()
        defer { server.stop() }
        let batch = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--concurrency", "5"], environment: environment(server))
        #expect(batch.status == 1, "\(batch.stderr)")  // item 23 has a fault
        let lines = try results(batch.stdout)
        #expect(lines.keys.sorted() == Array(0..<30))
        #expect(lines[22]?["status"] == "failed" && lines[0]?["output"] == "L1")
        #expect(server.requestCount == 30)
        let resumed = try await runPipe(["batch", "--resume", "last", "--queue", url], environment: environment(server))
        #expect(resumed.status == 1, "\(resumed.stderr)")
        #expect(resumed.stdout.isEmpty)
        #expect(server.requestCount == 30)
        // Nothing in the embedded store: no run store was made beside the spec.
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent(".pipe").path))
    }

    /// The submitter that finds every item held by another worker waits for them to end
    /// before its summary and exit code: `pipe batch` ends when its batch has.
    @Test func aSubmitterWaitsForTheItemsAnotherWorkerHolds() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(BatchCommandTests.specText, to: "classify.yaml")
        let input = try write((1...6).map { #"{"id": "\#($0)", "text": "t"}"# }.joined(separator: "\n"), to: "items.jsonl")
        let server = FakeLLMServer { BatchCommandTests.reply($0).delayed(by: .seconds(3)) }
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--queue", url, "--no-work"], environment: environment(server))
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let worker = try LivePipe(
            ["worker", "--queue", url, "--concurrency", "6", "--exit-when-idle"], environment: environment(server))
        // Ordered by the server's log: every item's call is in flight in the worker.
        let start = ContinuousClock.now
        while server.requestCount < 6, ContinuousClock.now - start < .seconds(60) {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(server.requestCount == 6)
        let resumed = try await runPipe(["batch", "--resume", "last", "--queue", url], environment: environment(server))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let status = try await runPipe(["batch", "status", "last", "--queue", url], environment: environment(server))
        #expect(status.stdout.contains("6 succeeded, 0 failed, 0 invalid input, 0 running, 0 pending"), "\(status.stdout)")
        #expect(server.requestCount == 6)
        let ended = await worker.finish()
        #expect(ended.status == 0, "\(ended.stderr)")
    }

    @Test func aBatchOnlyEnqueuedIsFinishedByAWorkerWithoutTheSpecFile() async throws {
        let url = try await PostgresServer.shared().database()
        let spec = try write(
            """
            version: 1
            name: labels
            input:
              schema: schemas/item.json
            models:
              claude: { provider: anthropic, model: claude-test }
            defaults: { model: claude, max_tokens: 100 }
            stages:
              classify:
                prompt: "ITEM {{ input.id }}: {{ input.text }}"
                output: { schema: schemas/label.json }
            output: "{{ classify.label }}"
            """, to: "submitter/labels.yaml")
        _ = try write(#"{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "text": {"type": "string"}}}"#, to: "submitter/schemas/item.json")
        _ = try write(#"{"type": "object", "required": ["label"]}"#, to: "submitter/schemas/label.json")
        let input = try write((1...5).map { #"{"id": "\#($0)", "text": "t"}"# }.joined(separator: "\n"), to: "items.jsonl")
        let server = FakeLLMServer(handler: BatchCommandTests.reply)
        try server.start()
        defer { server.stop() }
        let submitted = try await runPipe(
            ["batch", spec, "--input", input, "--no-work"], environment: environment(server).merging(["PIPE_QUEUE": url]) { $1 })
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stderr.contains("is queued; work on it with: pipe worker --queue"))
        let status = try await runPipe(["batch", "status", "last", "--queue", url], environment: environment(server))
        #expect(status.stdout.contains("5 pending"), "\(status.stdout)")
        // The spec and its schema files are gone: the worker runs what the batch carries.
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("submitter"))
        let elsewhere = folder.url.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let worked = try await runPipe(
            ["worker", "--queue", url, "--exit-when-idle"], directory: elsewhere, environment: environment(server))
        #expect(worked.status == 0, "\(worked.stderr)")
        #expect(server.requestCount == 5)
        let stored = try await runPipe(["batch", "results", "last", "--queue", url], environment: environment(server))
        let lines = try results(stored.stdout)
        #expect(lines.keys.sorted() == Array(0..<5))
        #expect(lines.values.allSatisfy { $0["status"] == "succeeded" })
        #expect(lines[2]?["output"] == "L3")
        // Nothing of the key in the database.
        let database = try await PostgresClient.open(url: url)
        let leaked = try await database.withConnection { connection throws(PostgresError) in
            try connection.query(
                "SELECT (SELECT count(*) FROM calls WHERE request LIKE '%\"k\"%' OR request LIKE '%x-api-key%') + (SELECT count(*) FROM batches WHERE spec_text LIKE '%ANTHROPIC_API_KEY%') AS count"
            ).first?.int("count")
        }
        #expect(leaked == 0)
    }
}
