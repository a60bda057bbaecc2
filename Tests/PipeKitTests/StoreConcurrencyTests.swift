import Foundation
import GRDB
import Testing
@testable import PipeKit

/// Several writers on one store file: each `RunStore` is its own SQLite connection pool, as
/// two `pipe run` processes are; SQLite's locks and the busy timeout make them take turns.
@Suite struct StoreConcurrencyTests {
    @Test func storesOpenedAtOnceOnANewFileAllSucceed() async throws {
        let folder = try TemporaryFolder()
        let path = folder.storePath
        // Each opening migrates the new file; only one may create the tables.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { _ = try await RunStore(path: path).startRun(StoreSamples.newRun()) }
            }
            try await group.waitForAll()
        }
        #expect(try await RunStore(path: path).runs(limit: 100).count == 8)
    }

    @Test func twoStoresOnOneFileWriteFromManyTasksAtOnce() async throws {
        let folder = try TemporaryFolder()
        let stores = [try RunStore(path: folder.storePath), try RunStore(path: folder.storePath)]
        let runsPerStore = 10, callsPerRun = 5
        let journals = try await withThrowingTaskGroup(of: (any DurableJournal).self) { group in
            for store in stores {
                for run in 0..<runsPerStore {
                    group.addTask {
                        let id = try await store.startRun(StoreSamples.newRun(input: .number(JSONNumber(run))))
                        let journal = store.journal(runID: id, reusingFrom: nil)
                        for call in 0..<callsPerRun {
                            await journal.record(StoreSamples.call(key: "\(id)-\(call)"))
                        }
                        await journal.record(StoreSamples.stage())
                        try await store.finishRun(id, RunEnd(status: .succeeded, usage: .zero, costUSD: nil, wall: .seconds(1)))
                        return journal
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for journal in journals { #expect(await journal.flush() == nil) }
        let rows = try await stores[0].runs(limit: 1000)
        #expect(rows.count == 2 * runsPerStore)
        #expect(rows.allSatisfy { $0.status == .succeeded })
        for row in rows {
            let detail = try #require(try await stores[1].run(row.id))
            #expect(detail.calls.count == callsPerRun)
            #expect(detail.stages.count == 1)
        }
    }

    /// Two processes, as two `pipe run`s: `pipe-bench store` runs mock pipelines through the
    /// journal `pipe run` uses, on one new store file at once.
    @Test func twoProcessesWriteOneStoreAtOnce() async throws {
        let folder = try TemporaryFolder()
        let arguments = ["store", "--store", folder.storePath, "--runs", "40", "--stages", "3", "--concurrency", "4"]
        async let first = runPipeBench(arguments)
        async let second = runPipeBench(arguments)
        for result in try await [first, second] {
            #expect(result.status == 0, "\(result.stdout)")
        }
        let store = try RunStore(path: folder.storePath)
        let rows = try await store.runs(limit: 1000)
        #expect(rows.count == 80)
        #expect(rows.allSatisfy { $0.status == .succeeded })
        for row in rows.prefix(10) {
            let detail = try #require(try await store.run(row.id))
            #expect(detail.calls.count == 3 && detail.stages.count == 3)
        }
    }

    /// While another connection holds the write lock, a write waits for it (the busy
    /// timeout) instead of failing with "database is locked".
    @Test func aWriteWaitsForAnotherWritersTransaction() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let other = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        // The other connection takes the write lock, and lets it go 300 ms after this test
        // starts writing (on a thread of its own: it blocks).
        let locked = DispatchSemaphore(value: 0), writing = DispatchSemaphore(value: 0)
        let holder = DispatchGroup()
        holder.enter()
        Thread {
            defer { holder.leave() }
            try? other.database.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                _ = writing.wait(timeout: .now() + 10)
                Thread.sleep(forTimeInterval: 0.3)
                try db.execute(sql: "COMMIT")
            }
        }.start()
        locked.wait()
        let start = ContinuousClock.now
        writing.signal()
        let journal = store.journal(runID: id, reusingFrom: nil)
        await journal.record(StoreSamples.call())
        try await store.finishRun(id, RunEnd(status: .succeeded, usage: .zero, costUSD: nil, wall: .seconds(1)))
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        holder.wait()
        #expect(await journal.flush() == nil)
        #expect(try await store.run(id)?.calls.count == 1)
        #expect(try await store.run(id)?.row.status == .succeeded)
    }
}
