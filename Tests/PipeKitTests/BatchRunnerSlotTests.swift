import Foundation
import GRDB
import Testing
@testable import PipeKit

/// An item's slot goes to the next item once its run has its answer, while its finish is
/// written; the item counts as ended (its result line, the progress) only once that finish is
/// committed.
@Suite struct BatchRunnerSlotTests {
    /// At `--concurrency 1`, item 0's finish waits for the store (another process holds its
    /// write lock): item 1 starts meanwhile, and item 0 is reported ended only after its finish
    /// is committed.
    @Test func theNextItemStartsWhileAnItemsFinishIsWrittenAndItEndsOnceCommitted() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let queue = SQLiteWorkQueue(store: store)
        try await queue.create(NewBatch(
            id: "b1", specPath: "/specs/one.yaml", specText: "", schemaFiles: [:], specHash: "h", pipelineName: "one"))
        try await queue.enqueue(batch: "b1", items: (0..<2).map { QueuedItem(index: $0, line: $0 + 1, input: .success("x")) })
        try await queue.sealBatch("b1")

        // Another connection to the store's file, as another `pipe` process would hold it.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // its transaction held across two accesses
        let other = try DatabaseQueue(path: folder.storePath, configuration: configuration)
        let events = Locked<[String]>([])
        let (secondStarted, second) = AsyncStream<Void>.makeStream()
        let runner = BatchRunner(queue: queue, batch: "b1", options: .init(concurrency: 1, lease: .seconds(3600), worker: "w"))
        async let outcome = runner.run(
            started: { claim in
                events.withLock { $0.append("started \(claim.index)") }
                if claim.index == 1 { second.yield() }
            },
            ended: { claim, _ in events.withLock { $0.append("ended \(claim.index)") } }
        ) { claim, finisher in
            let result = ItemResult(index: claim.index, status: .succeeded, output: .string("done \(claim.index)"))
            guard claim.index == 0 else { return .ended(result) }
            try? other.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            // The lock is let go once item 1 started (or after 5 s, for a runner that waits).
            Task.detached {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { for await _ in secondStarted { return } }
                    group.addTask { try? await Task.sleep(for: .seconds(5)) }
                    await group.next()
                    group.cancelAll()
                }
                events.withLock { $0.append("store let go") }
                try? other.inDatabase { db in try db.execute(sql: "COMMIT") }
            }
            _ = try? await finisher.finish(result, runEnd: nil)
            return .ended(result)
        }
        #expect(try await outcome == .drained)
        // Both finishes were committed after the store was let go (in either order: each item's
        // task reports its own end).
        let seen = events.withLock { $0 }
        #expect(Array(seen.prefix(3)) == ["started 0", "started 1", "store let go"])
        #expect(Set(seen.dropFirst(3)) == ["ended 0", "ended 1"] && seen.count == 5)
        let results = try await queue.results(batch: "b1", after: nil, limit: 10)
        #expect(results.map(\.output) == [.string("done 0"), .string("done 1")])
    }
}
