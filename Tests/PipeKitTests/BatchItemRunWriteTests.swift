import Foundation
import GRDB
import Testing
@testable import PipeKit

/// A batch item's run is started in the same write that names it in the item, and ended in
/// the same write that finishes the item (`WorkQueue.startRun(_:for:)`, `finish(_:result:runEnd:)`),
/// on the embedded queue and on PostgreSQL: the item resumes its run when claimed again, the
/// item's result and its run's end are both recorded with every call and stage, and a worker
/// that lost the item records its run's end but not the item's.
@Suite struct BatchItemRunWriteTests {
    static let lease = Duration.seconds(3600)

    @Test func onTheEmbeddedQueue() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let runs = try await Self.itemsStartAndEndWithTheirRuns(queue: SQLiteWorkQueue(store: store), runs: store)
        for (index, run) in runs.enumerated() {
            let row = try store.database.read { db in
                try Row.fetchOne(db, sql: "SELECT batch_id, item FROM runs WHERE id = ?", arguments: [run])
            }
            #expect(row?["batch_id"] == "b1" && row?["item"] == index)
        }
    }

    @Test func onPostgreSQL() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database(), connections: 2)
        let runs = try await Self.itemsStartAndEndWithTheirRuns(queue: PostgresWorkQueue(client: client), runs: PostgresRunStore(client: client))
        for (index, run) in runs.enumerated() {
            let rows = try await client.withConnection { connection throws(PostgresError) in
                try connection.query("SELECT batch_id, item FROM runs WHERE id = $1", [run])
            }
            #expect(rows.first?["batch_id"] == "b1" && rows.first?.int("item") == index)
        }
    }

    /// Two items claimed by `w`, each with its run started through the queue; item 1 is given
    /// back and claimed by `v`. Returns the two runs' ids.
    static func itemsStartAndEndWithTheirRuns(queue: any WorkQueue, runs: any RunStorage) async throws -> [String] {
        try await queue.create(NewBatch(
            id: "b1", specPath: "/specs/chain.yaml", specText: StoreJournalRunTests.spec, schemaFiles: [:], specHash: "h",
            pipelineName: "chain"))
        try await queue.enqueue(batch: "b1", items: (0..<2).map { QueuedItem(index: $0, line: $0 + 1, input: .success("x")) })
        try await queue.sealBatch("b1")
        let claims = try await queue.claim(batch: "b1", worker: "w", limit: 2, lease: lease)
        #expect(claims.map(\.index) == [0, 1])
        let lifecycle = RunLifecycle(store: runs, holdsRuns: false)
        let pipeline = try compileSpec(StoreJournalRunTests.spec)
        var started: [RunLifecycle.Run] = []
        for claim in claims {
            started.append(try await lifecycle.start(
                specPath: "/specs/chain.yaml", pipeline: pipeline, input: "x", traceID: RunLifecycleTests.traceID,
                write: { run throws(StoreError) in try await queue.startRun(run, for: claim) }))
        }

        // The item names its run: given back and claimed again, the run is the one to resume.
        try await queue.release(batch: "b1", worker: "w", items: [1])
        // The starts are queued, not awaited: written ahead of the writes that follow them.
        #expect(try await runs.run(started[0].id)?.row.status == .running)
        let again = try #require(try await queue.claim(batch: "b1", worker: "v", limit: 1, lease: lease).first)
        #expect(again.index == 1 && again.previousRunID == started[1].id && again.claims == 2)

        // Each item's run ends with the item: item 0, still held by `w`, ends; item 1, now `v`'s,
        // is left as it is, while the run `w` made of it is ended all the same.
        var kept: [Bool] = []
        for (claim, run) in zip(claims, started) {
            let result = try await RunLifecycleTests.runner(ScriptedProvider(answer: StoreJournalRunTests.answer()))
                .with(journal: run.journal).run(input: "x")
            let answer = Locked<Bool?>(nil)
            let gaps = await lifecycle.finish(run, result) { end throws(StoreError) in
                let finished = try await queue.finish(claim, result: ItemResult(index: claim.index, runID: run.id, result), runEnd: end)
                answer.withLock { $0 = finished }
            }
            #expect(gaps.records == nil && gaps.end == nil)
            let finished = answer.withLock { $0 }
            #expect(finished != nil, "the item's finish was never written")
            kept.append(finished ?? false)
            let detail = try #require(try await runs.run(run.id))
            #expect(detail.row.status == .succeeded && detail.stages.count == 4 && detail.calls.count == 4)
        }
        #expect(kept == [true, false])
        #expect(try await queue.counts(batch: "b1") == BatchCounts(running: 1, succeeded: 1))
        let results = try await queue.results(batch: "b1", after: nil, limit: 10)
        #expect(results.map(\.index) == [0] && results.map(\.runID) == [started[0].id] && results.map(\.status) == [.succeeded])
        return started.map(\.id)
    }
}
