import Foundation
import Testing
@testable import PipeKit

/// The batch queue on a real PostgreSQL server (`PostgresServer`), a database per test: no
/// two claimers take one item, leases lapse and are renewed, a worker that lost its item
/// cannot finish it, results come in input order, and pipe creates its tables itself.
@Suite struct PostgresQueueTests {
    static let hour = Duration.seconds(3600)

    /// A queue on a new database, with `connections` connections.
    func queue(connections: Int = 2) async throws -> PostgresWorkQueue {
        let url = try await PostgresServer.shared().database()
        return PostgresWorkQueue(client: try await PostgresClient.open(url: url, connections: connections))
    }

    /// A batch of `count` items whose input is `{"n": index}`, except the `invalid` indexes.
    func batch(_ queue: PostgresWorkQueue, id: String = "b1", count: Int, invalid: Set<Int> = []) async throws {
        try await queue.create(NewBatch(
            id: id, specPath: "/specs/s.yaml", specText: "version: 1", schemaFiles: ["schemas/a.json": "{}"],
            specHash: "h", pipelineName: "s"))
        let items = (0..<count).map { index in
            QueuedItem(
                index: index, line: index + 1,
                input: invalid.contains(index) ? .failure(InvalidInput("line \(index + 1): not JSON")) : .success(["n": .number(JSONNumber(index))]))
        }
        try await queue.enqueue(batch: id, items: items)
        try await queue.sealBatch(id)
    }

    func succeeded(_ claim: Claim, by worker: String) -> ItemResult {
        ItemResult(index: claim.index, status: .succeeded, output: .string(worker), runID: "run-\(worker)",
            usage: TokenUsage(input: 3, output: 2), costUSD: 0.25)
    }

    @Test func fiftyConcurrentClaimersTakeEachItemExactlyOnce() async throws {
        let queue = try await queue(connections: 10)
        try await batch(queue, count: 20)
        let claims = try await withThrowingTaskGroup(of: [Claim].self) { group in
            for claimer in 0..<50 {
                group.addTask { try await queue.claim(batch: "b1", worker: "w\(claimer)", limit: 1, lease: Self.hour) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claims.map(\.index).sorted() == Array(0..<20))
        #expect(Set(claims.map(\.worker)).count == 20)
        #expect(claims.allSatisfy { $0.claims == 1 && $0.previousRunID == nil && $0.input == ["n": .number(JSONNumber($0.index))] })
        // The table says the same: each item held by the claimer that got it.
        let holders = try await queue.client.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT item, worker FROM items WHERE batch_id = 'b1' AND status = 'running'")
        }
        #expect(Dictionary(uniqueKeysWithValues: holders.map { ($0.int("item") ?? -1, $0["worker"] ?? "") })
            == Dictionary(uniqueKeysWithValues: claims.map { ($0.index, $0.worker) }))
        #expect(try await queue.claim(batch: "b1", worker: "late", limit: 5, lease: Self.hour).isEmpty)
        #expect(try await queue.counts(batch: "b1") == BatchCounts(running: 20))
    }

    @Test func anItemWhoseLeaseLapsedIsReclaimedAndResumesTheRunOfItsLastHolder() async throws {
        let queue = try await queue()
        try await batch(queue, count: 2)
        let first = try await queue.claim(batch: "b1", worker: "a", limit: 1, lease: .zero)
        #expect(first.map(\.index) == [0])
        let runA = try await queue.startRun(StoreSamples.newRun(), for: first[0])

        // The lease of `a` has lapsed (it was 0 s long): `b` takes item 0 again, then item 1.
        let second = try await queue.claim(batch: "b1", worker: "b", limit: 2, lease: Self.hour)
        #expect(second.map(\.index) == [0, 1])
        #expect(second[0].previousRunID == runA && second[0].claims == 2)
        #expect(second[1].previousRunID == nil && second[1].claims == 1)
    }

    @Test func finishingAfterLosingTheLeaseReturnsFalseAndChangesNothing() async throws {
        let queue = try await queue()
        try await batch(queue, count: 1)
        let lost = try #require(try await queue.claim(batch: "b1", worker: "a", limit: 1, lease: .zero).first)
        let taken = try #require(try await queue.claim(batch: "b1", worker: "b", limit: 1, lease: Self.hour).first)

        #expect(try await queue.finish(lost, result: succeeded(lost, by: "a")) == false)
        // A run started too late is recorded, but the item does not name it: `b` holds the item.
        let tooLate = try await queue.startRun(StoreSamples.newRun(), for: lost)
        #expect(try await queue.renew(batch: "b1", worker: "a", items: [0], lease: Self.hour).isEmpty)
        #expect(try await queue.counts(batch: "b1") == BatchCounts(running: 1))
        #expect(try await queue.results(batch: "b1", after: nil, limit: 10).isEmpty)
        let named = try await queue.client.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT run_id FROM items WHERE batch_id = 'b1' AND item = 0")
        }
        #expect(named.count == 1 && named[0]["run_id"] == nil && !tooLate.isEmpty)

        #expect(try await queue.finish(taken, result: succeeded(taken, by: "b")))
        let results = try await queue.results(batch: "b1", after: nil, limit: 10)
        #expect(results.map(\.output) == [.string("b")] && results.map(\.runID) == ["run-b"])
        #expect(try await queue.finish(taken, result: succeeded(taken, by: "b")) == false)
    }

    /// A batch item's run start is queued, not awaited: it returns while PostgreSQL cannot
    /// write it yet (another session locks `runs`), and is written ahead of the item's finish,
    /// which ends the run and names it on the item.
    @Test func anItemsRunStartIsQueuedAndWrittenAheadOfItsFinish() async throws {
        let queue = try await queue()
        try await batch(queue, count: 1)
        let claim = try #require(try await queue.claim(batch: "b1", worker: "a", limit: 1, lease: Self.hour).first)
        let locker = queue.client.session()
        try await locker.withConnection { connection throws(PostgresError) in
            try connection.execute("BEGIN")
            try connection.execute("LOCK TABLE runs IN EXCLUSIVE MODE")
        }
        let id = try await queue.startRun(StoreSamples.newRun(), for: claim)
        #expect(id.count == "20261121-061502-3f9a07c41be2".count)
        let count = "SELECT count(*) AS count FROM runs"
        let unwritten = try await queue.client.query(count).first?.int("count")
        #expect(unwritten == 0)
        let end = RunEnd(status: .succeeded, usage: TokenUsage(input: 3, output: 2), costUSD: 0.25, wall: .seconds(1))
        async let finished = queue.finish(claim, result: ItemResult(index: 0, status: .succeeded, output: "x", runID: id), runEnd: end)
        try await locker.withConnection { connection throws(PostgresError) in try connection.execute("COMMIT") }
        #expect(try await finished)
        let row = try await queue.client.query(
            "SELECT runs.status, items.run_id FROM runs JOIN items ON items.batch_id = runs.batch_id AND items.item = runs.item")
        #expect(row.count == 1 && row.first?["status"] == "succeeded" && row.first?["run_id"] == id)
    }

    /// An item's finish ends the run it names only if that run's row is the item's: a run whose
    /// queued start found its id taken (here: the id of another item's run) ends neither that
    /// run nor names it on its item.
    @Test func anItemsFinishLeavesARunOfAnotherItemAsItIs() async throws {
        let queue = try await queue()
        try await batch(queue, count: 2)
        let claims = try await queue.claim(batch: "b1", worker: "a", limit: 2, lease: Self.hour)
        let other = try await queue.startRun(StoreSamples.newRun(), for: claims[1])
        let end = RunEnd(status: .failed, usage: .zero, costUSD: nil, wall: .seconds(1), error: "boom")
        #expect(try await queue.finish(claims[0], result: ItemResult(index: 0, status: .failed, runID: other, error: "boom"), runEnd: end))
        let rows = try await queue.client.query(
            "SELECT items.item, items.status AS item_status, items.run_id, runs.status FROM items LEFT JOIN runs ON runs.id = $1 ORDER BY item",
            [other])
        #expect(rows.map { $0["item_status"] } == ["failed", "running"])
        #expect(rows.map { $0["run_id"] } == [nil, other])
        #expect(rows.allSatisfy { $0["status"] == "running" })
    }

    @Test func renewingALeaseKeepsTheItem() async throws {
        let queue = try await queue()
        try await batch(queue, count: 1)
        _ = try await queue.claim(batch: "b1", worker: "a", limit: 1, lease: .zero)
        #expect(try await queue.renew(batch: "b1", worker: "a", items: [0], lease: Self.hour) == [0])
        #expect(try await queue.claim(batch: "b1", worker: "b", limit: 1, lease: Self.hour).isEmpty)
        #expect(try await queue.renew(batch: "b1", worker: "b", items: [0], lease: Self.hour).isEmpty)
    }

    /// A worker that lost an item (its lease lapsed and another worker claimed it) stops
    /// running it at its next renewal, rather than running it to the end, and does not finish it.
    @Test func anItemAnotherWorkerTookOverIsCancelledWhereItRuns() async throws {
        let queue = try await queue(connections: 3)
        try await batch(queue, count: 1)
        let runner = BatchRunner(queue: queue, batch: "b1", options: .init(concurrency: 1, lease: .seconds(3), worker: "a"))
        let (started, running) = AsyncStream<Void>.makeStream()
        let cancelled = Locked(false)
        let ended = Locked(0)
        async let outcome = runner.run(ended: { _, _ in ended.withLock { $0 += 1 } }) { claim in
            running.yield()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.withLock { $0 = true }
                return .unfinished
            }
            return .ended(ItemResult(index: claim.index, status: .succeeded, output: "a"))
        }
        var events = started.makeAsyncIterator()
        _ = await events.next()
        // Worker `b` takes the item over: its lease made to lapse, then claimed.
        try await queue.client.withConnection { connection throws(PostgresError) in
            try connection.execute("UPDATE items SET lease_until = now() - interval '1 second' WHERE batch_id = 'b1'")
        }
        let taken = try await queue.claim(batch: "b1", worker: "b", limit: 1, lease: Self.hour)
        #expect(taken.map(\.index) == [0])

        let stopped = try await outcome
        #expect(stopped == .drained)
        #expect(cancelled.withLock { $0 })
        #expect(ended.withLock { $0 } == 0)
        #expect(try await queue.counts(batch: "b1") == BatchCounts(running: 1))
        #expect(try await queue.renew(batch: "b1", worker: "b", items: [0], lease: Self.hour) == [0])
    }

    /// Writes asked for together are sent and committed as one group; one that fails takes
    /// none of the others with it.
    @Test func aWriteThatFailsInAGroupTakesNoOtherWithIt() async throws {
        let client = try await queue(connections: 1).client
        try await client.write("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        let written = await withTaskGroup(of: (Int, Bool).self) { group in
            // 5 twice: one of the two breaks the key.
            for n in Array(0..<40) + [5] {
                group.addTask {
                    do throws(StoreError) {
                        return (n, try await client.write("INSERT INTO numbers VALUES ($1)", [n]).affected == 1)
                    } catch {
                        return (n, false)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(written.filter { !$0.1 }.map(\.0) == [5])
        let rows = try await client.query("SELECT n FROM numbers ORDER BY n").compactMap { $0.int("n") }
        #expect(rows == Array(0..<40))
    }

    /// Rows of one insert queued together (the journal's calls and stages) go as one statement,
    /// in the order queued; a row that fails is written again alone and takes no other with it.
    @Test func rowsWrittenTogetherKeepTheirOrderAndAFailingOneTakesNoOtherWithIt() async throws {
        let client = try await queue(connections: 1).client
        try await client.write("CREATE TABLE numbers (seq INTEGER GENERATED ALWAYS AS IDENTITY, n INTEGER PRIMARY KEY)")
        let insert = "INSERT INTO numbers (n) VALUES"
        // 21 rows of one insert among other statements: 3 statements of 16, 4 and 1 rows, each at
        // the place of its first row.
        let statements = (0..<21).map { PostgresStatement.row(into: insert, [$0]) } + [PostgresStatement("SELECT 1")]
        let (sent, positions) = PostgresClient.rows(statements)
        #expect(sent.count == 4 && positions == Array(repeating: 0, count: 16) + Array(repeating: 1, count: 4) + [2, 3])

        var random = SplitMix64(state: 5)
        let order = Array(0..<60).shuffled(using: &random) + [7]  // 7 twice: one of the two breaks the key
        let written = Locked<[Int: Bool]>([:])
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let left = Locked(order.count)
            for (position, n) in order.enumerated() {
                client.enqueue(.row(into: insert, [n])) { result in
                    // The second 7 is the one that fails (they are written in order).
                    let key = position == order.count - 1 ? -1 : n
                    written.withLock { $0[key] = (try? result.get().affected) == 1 }
                    if left.withLock({ $0 -= 1; return $0 }) == 0 { continuation.resume() }
                }
            }
        }
        #expect(written.withLock { $0 } == Dictionary(uniqueKeysWithValues: order.dropLast().map { ($0, true) } + [(-1, false)]))
        let rows = try await client.query("SELECT n FROM numbers ORDER BY seq").compactMap { $0.int("n") }
        #expect(rows == Array(order.dropLast()))
    }

    @Test func releasedItemsAreClaimedAgain() async throws {
        let queue = try await queue()
        try await batch(queue, count: 3)
        _ = try await queue.claim(batch: "b1", worker: "a", limit: 3, lease: Self.hour)
        try await queue.release(batch: "b1", worker: "a", items: [0, 2])
        #expect(try await queue.counts(batch: "b1") == BatchCounts(pending: 2, running: 1))
        let again = try await queue.claim(batch: "b1", worker: "b", limit: 3, lease: Self.hour)
        #expect(again.map(\.index) == [0, 2] && again.map(\.claims) == [2, 2])
    }

    @Test func resultsComeInInputOrderWhateverOrderItemsEnd() async throws {
        let queue = try await queue(connections: 3)
        try await batch(queue, count: 30, invalid: [3, 17])
        // Enqueuing the same items again (a resumed submit) adds nothing.
        try await queue.enqueue(batch: "b1", items: [QueuedItem(index: 0, line: 1, input: .success("again"))])
        var claims = try await queue.claim(batch: "b1", worker: "a", limit: 15, lease: Self.hour)
        claims += try await queue.claim(batch: "b1", worker: "b", limit: 15, lease: Self.hour)
        #expect(claims.count == 28 && !claims.contains { [3, 17].contains($0.index) })
        var random = SplitMix64(state: 12)
        for claim in claims.shuffled(using: &random) {
            let result = claim.index % 5 == 0
                ? ItemResult(index: claim.index, status: .failed, runID: "r", stage: "writer", error: "HTTP 500")
                : succeeded(claim, by: claim.worker)
            #expect(try await queue.finish(claim, result: result))
        }
        let results = try await queue.results(batch: "b1", after: nil, limit: 100)
        #expect(results.map(\.index) == Array(0..<30))
        #expect(results[0].status == .failed && results[0].stage == "writer" && results[0].error == "HTTP 500")
        #expect(results[3].status == .invalidInput && results[3].error == "line 4: not JSON")
        #expect(results[1].status == .succeeded && results[1].usage == TokenUsage(input: 3, output: 2) && results[1].costUSD == 0.25)
        #expect(try await queue.results(batch: "b1", after: 9, limit: 5).map(\.index) == [10, 11, 12, 13, 14])
        #expect(try await queue.counts(batch: "b1") == BatchCounts(succeeded: 22, failed: 6, invalidInput: 2))
    }

    /// What a worker looks for: the batches with an item pending or running, or not sealed,
    /// newest first, with their pending and running items counted; a batch whose items all
    /// ended is left out.
    @Test func openBatchesAreThoseWithAnItemLeftOrMoreToCome() async throws {
        let queue = try await queue()
        try await batch(queue, id: "20261202-150000-aaaa", count: 3)
        try await batch(queue, id: "20261202-150000-aaab", count: 1, invalid: [0])
        try await queue.create(NewBatch(
            id: "20261202-150000-aaac", specPath: "/specs/t.yaml", specText: "t", schemaFiles: [:], specHash: "h2",
            pipelineName: "t", createdAt: Date().addingTimeInterval(1)))
        let claims = try await queue.claim(batch: "20261202-150000-aaaa", worker: "a", limit: 2, lease: Self.hour)
        #expect(try await queue.finish(claims[0], result: succeeded(claims[0], by: "a")))

        let open = try await queue.openBatches(limit: 10)
        #expect(open.map(\.id) == ["20261202-150000-aaac", "20261202-150000-aaaa"])
        #expect(open.map(\.counts.pending) == [0, 1] && open.map(\.counts.running) == [0, 1])
        #expect(open.map(\.sealed) == [false, true] && open[1].specText == "version: 1")
    }

    @Test func aBatchIsFoundByIDPrefixOrLastWithItsSpec() async throws {
        let queue = try await queue()
        try await batch(queue, id: "20261202-150000-aaaa", count: 2)
        try await queue.create(NewBatch(
            id: "20261202-150000-aaab", specPath: "/specs/t.yaml", specText: "t", schemaFiles: [:], specHash: "h2",
            pipelineName: "t", createdAt: Date().addingTimeInterval(1)))

        let first = try #require(try await queue.batch("20261202-150000-aaaa"))
        #expect(first.specText == "version: 1" && first.schemaFiles == ["schemas/a.json": "{}"] && first.sealed)
        #expect(first.counts == BatchCounts(pending: 2))
        #expect(try await queue.batch("last")?.id == "20261202-150000-aaab")
        #expect(try await queue.batch("20261202-150000-aaab")?.sealed == false)
        #expect(try await queue.batch("nothing") == nil)
        #expect(try await queue.batches(limit: 10).map(\.id) == ["20261202-150000-aaab", "20261202-150000-aaaa"])
        do {
            _ = try await queue.batch("20261202-15")
            Issue.record("an ambiguous prefix was accepted")
        } catch {
            #expect(error.description.contains("matches 2 batches (20261202-150000-aaab, 20261202-150000-aaaa)"))
        }
    }
}

/// pipe's own tables on PostgreSQL, the client's connection and its errors.
@Suite struct PostgresClientTests {
    @Test func sessionsMigratingAtOnceCreateTheTablesOnce() async throws {
        let url = try await PostgresServer.shared().database()
        async let first = PostgresClient.open(url: url)
        async let second = PostgresClient.open(url: url)
        let (client, _) = try await (first, second)
        _ = try await PostgresClient.open(url: url)
        let versions = try await client.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT version FROM pipe_schema ORDER BY version").compactMap { $0.int("version") }
        }
        #expect(versions == Array(1...PostgresSchema.version))
        let tables = try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
            ).compactMap { $0["table_name"] }
        }
        #expect(tables == ["approvals", "batches", "calls", "items", "pipe_schema", "provider_batch_requests", "provider_batches", "runs", "stages", "tool_calls"])
    }

    /// Migration 6 gave provider batch requests their item as a column of their own: requests
    /// handed in by an older pipe (version 5) get it from their custom_id as the tables are
    /// upgraded, so the lead counts their items as waiting.
    @Test func requestsHandedInBeforeTheItemColumnGetTheirItemFromTheirCustomID() async throws {
        let url = try await PostgresServer.shared().database()
        let queue = PostgresWorkQueue(client: try await PostgresClient.open(url: url))
        try await PostgresQueueTests().batch(queue, count: 2)
        try await queue.client.withConnection { connection throws(PostgresError) in
            // Back to version 5, as an older pipe left it, with two requests handed in.
            try connection.execute("DROP INDEX provider_batch_requests_unanswered")
            try connection.execute("ALTER TABLE provider_batch_requests DROP COLUMN item")
            try connection.execute("DELETE FROM pipe_schema WHERE version >= 6")
            for customID in ["i12-classify-a1", "i3-tag-l2-f4-a2", "not-an-item"] {
                try connection.execute(
                    "INSERT INTO provider_batch_requests (batch_id, model, custom_id, body) VALUES ('b1', 'm', $1, '{}')",
                    [customID])
            }
        }
        let upgraded = try await PostgresClient.open(url: url)
        let items = try await upgraded.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT custom_id, item FROM provider_batch_requests ORDER BY custom_id")
                .map { "\($0["custom_id"] ?? "")=\($0.int("item").map(String.init) ?? "none")" }
        }
        #expect(items == ["i12-classify-a1=12", "i3-tag-l2-f4-a2=3", "not-an-item=none"])
    }

    @Test func aDatabaseNewerThanPipeIsRefused() async throws {
        let url = try await PostgresServer.shared().database()
        let client = try await PostgresClient.open(url: url)
        try await client.withConnection { connection throws(PostgresError) in
            try connection.execute("INSERT INTO pipe_schema (version, applied_at) VALUES (999, 'later')")
        }
        await #expect { _ = try await PostgresClient.open(url: url) } throws: { error in
            "\(error)".contains("version 999, newer than this pipe knows")
        }
    }

    @Test func connectsOverTCPAsWellAsTheUnixSocket() async throws {
        let server = try await PostgresServer.shared()
        let name = try await server.createDatabase()
        let client = try await PostgresClient.open(url: server.tcpURL(database: name))
        #expect(client.location == "postgres://postgres@127.0.0.1:\(server.port)/\(name)")
        let answer = try await client.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT $1::int + $2::int AS sum, $3::text AS text", [40, 2, "é \"quoted\""])
        }
        #expect(answer.first?.int("sum") == 42 && answer.first?["text"] == "é \"quoted\"")
    }

    /// Each connection is a server process: work that comes one job after another stays on one
    /// of them (a worker's start, its groups of writes), and more are made only for work that
    /// overlaps.
    @Test func workOneJobAfterAnotherStaysOnOneServerProcessAndOverlappingWorkGetsMore() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database(), connections: 4)
        let backend = { @Sendable (connection: PostgresConnection) throws(PostgresError) -> Int in
            try connection.query("SELECT pg_backend_pid() AS pid").first?.int("pid") ?? 0
        }
        var oneAfterAnother: Set<Int> = []
        for _ in 0..<8 {
            oneAfterAnother.insert(try await client.withConnection(backend))
            try await client.write("SELECT 1")
        }
        #expect(oneAfterAnother.count == 1)
        // Four jobs that each wait until all four have begun: they can only end on four connections.
        let begun = DispatchGroup()
        for _ in 0..<4 { begun.enter() }
        let overlapping = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await client.withConnection { connection throws(PostgresError) in
                        begun.leave()
                        begun.wait()
                        return try backend(connection)
                    }
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(overlapping.count == 4 && overlapping.isSuperset(of: oneAfterAnother))
    }

    @Test func aFailedStatementIsATypedErrorAndTheConnectionGoesOn() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database())
        await #expect { _ = try await client.withConnection { connection throws(PostgresError) in try connection.execute("SELECT * FROM nowhere") } } throws: { error in
            guard case StoreError.database(let path, let reason) = error else { return false }
            return path == client.location && reason.contains("\"nowhere\" does not exist")
        }
        #expect(try await client.withConnection { connection throws(PostgresError) in try connection.query("SELECT 1 AS one") }.first?.int("one") == 1)
    }

    @Test func thePasswordOfAURLNeverShowsInAnError() async throws {
        let secret = "hunter2-PG-SECRET"
        await #expect { _ = try await PostgresClient.open(url: "postgres://pipe:\(secret)@127.0.0.1:1/jobs") } throws: { error in
            guard case StoreError.cannotOpen(let path, let reason) = error else { return false }
            return path == "postgres://pipe@127.0.0.1:1/jobs" && !"\(error)".contains(secret) && !reason.isEmpty
        }
        for url in ["pipe:\(secret)@localhost/jobs", "postgres://pipe:\(secret)@[::1/jobs"] {
            await #expect { _ = try await PostgresClient.open(url: url) } throws: { error in
                "\(error)".contains("not a PostgreSQL URL (postgres://USER@HOST:PORT/DB") && !"\(error)".contains(secret)
            }
        }
    }
}
