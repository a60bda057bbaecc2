import Foundation
import GRDB
import Testing
@testable import PipeKit

/// A run's life in the store through `RunLifecycle`, as `pipe run`, `pipe approve` and
/// `pipe batch` use it: records written behind the run and all there once it has finished,
/// runs to resume held by one process at a time.
@Suite struct RunLifecycleTests {
    static let traceID = String(repeating: "0", count: 32)

    /// a -> b -> d, a -> c -> d (`StoreJournalRunTests.spec`), answered by `provider`.
    static func runner(_ provider: ScriptedProvider) throws -> PipelineRunner {
        try PipelineRunner(pipeline: try compileSpec(StoreJournalRunTests.spec)) { _ throws(ProviderError) in provider }
    }

    /// Another connection takes the store's write lock, and keeps it until the semaphore is signalled.
    static func holdWriteLock(_ path: String) async throws -> DispatchSemaphore {
        let blocker = try RunStore(path: path)
        let locked = DispatchSemaphore(value: 0), letGo = DispatchSemaphore(value: 0)
        Thread {
            try? blocker.database.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                _ = letGo.wait(timeout: .now() + 60)
                try db.execute(sql: "COMMIT")
            }
        }.start()
        await onOwnThread { locked.wait() }
        return letGo
    }

    /// While another connection holds the store's write lock, no record can be written: the
    /// whole chain still runs (each stage starts without waiting for its dependency's record),
    /// and once the lock is let go, `finish` leaves every call and stage in the store.
    @Test func stagesDoNotWaitForTheirRecords() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let reader = try RunStore(path: folder.storePath)
        let lifecycle = RunLifecycle(store: store)
        let provider = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let run = try await lifecycle.start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID)
        let letGo = try await Self.holdWriteLock(folder.storePath)

        let result = try await Self.runner(provider).with(journal: run.journal).run(input: "x")
        #expect(result.outcome.status == .succeeded)
        #expect(provider.calls.map(\.stage).sorted() == ["a", "b", "c", "d"])
        #expect(try await reader.run(run.id)?.stages.isEmpty == true)

        letGo.signal()
        let gaps = await lifecycle.finish(run, result)
        #expect(gaps.records == nil && gaps.end == nil)
        let detail = try #require(try await reader.run(run.id))
        #expect(detail.row.status == .succeeded)
        // In the order they were handed over: `a` first, `d` last; `b` and `c` run at once, so
        // theirs may come in either order (a test on a busy machine saw both).
        for order in [detail.stages.map(\.stage), detail.calls.map(\.stage)] {
            #expect(order.first == "a" && order.last == "d" && Set(order.dropFirst().dropLast()) == ["b", "c"] && order.count == 4)
        }
        #expect(detail.stages.allSatisfy { $0.status == .succeeded } && detail.calls.allSatisfy { $0.status == .ok })
        #expect(detail.output == "d(D b(B a(A x)) c(C a(A x)))")
    }

    /// The run to resume is held from the moment it is found until the run that continues it
    /// has finished; that run calls only what did not finish.
    @Test func aResumedRunIsHeldUntilItsContinuationFinishes() async throws {
        let folder = try TemporaryFolder()
        let lifecycle = RunLifecycle(store: try RunStore(path: folder.storePath))
        let elsewhere = RunLifecycle(store: try RunStore(path: folder.storePath))
        let failing = ScriptedProvider(answer: StoreJournalRunTests.answer(failing: "c"))
        let first = try await lifecycle.perform(
            try Self.runner(failing), specPath: "/specs/chain.yaml", input: "x", traceID: Self.traceID)
        #expect(first.result.outcome.status == .failed)

        let resumption = try await lifecycle.resume("last", specPath: "/specs/chain.yaml")
        #expect(resumption.id == first.run.id && resumption.input == "x")
        do {
            _ = try await elsewhere.resume(first.run.id, specPath: nil)
            Issue.record("resumed a run another process holds")
        } catch {
            guard case .store(.runInUse(let id, _)) = error else { throw error }
            #expect(id == first.run.id)
        }

        let working = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let second = try await lifecycle.perform(
            try Self.runner(working), specPath: "/specs/chain.yaml", input: resumption.input, traceID: Self.traceID,
            resuming: resumption)
        #expect(second.result.outcome.status == .succeeded)
        #expect(working.calls.map(\.stage) == ["c", "d"])
        let detail = try #require(try await lifecycle.store?.run(second.run.id))
        #expect(detail.row.resumedFrom == first.run.id)
        #expect(detail.stages.filter { $0.status == .reused }.map(\.stage).sorted() == ["a", "b"])
        #expect(detail.stages.filter { $0.status == .succeeded }.map(\.stage).sorted() == ["c", "d"])

        // Let go: another process may resume it now.
        let again = try await elsewhere.resume(first.run.id, specPath: nil)
        await elsewhere.letGo(again.id)
    }

    /// Without a store (`--no-store`) a run is not recorded, and nothing can be resumed.
    @Test func withoutAStoreNothingIsRecorded() async throws {
        let lifecycle = RunLifecycle(store: nil)
        let done = try await lifecycle.perform(
            try Self.runner(ScriptedProvider(answer: StoreJournalRunTests.answer())), specPath: "/specs/chain.yaml", input: "x",
            traceID: Self.traceID)
        #expect(!done.run.isRecorded && done.result.outcome.status == .succeeded)
        await #expect(throws: RunLookupError.self) { try await lifecycle.resume("last", specPath: nil) }
    }

    /// A batch item's run (`holdsRuns: false`) takes no lock file of its own: the batch's lease
    /// and the item's claim hold it. While it runs, `pipe logs` still shows it held, by the
    /// batch's process, not as interrupted.
    @Test func aBatchItemsRunIsHeldByItsBatch() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let queue = SQLiteWorkQueue(store: store)
        try await queue.create(NewBatch(
            id: "b1", specPath: "/specs/chain.yaml", specText: StoreJournalRunTests.spec, schemaFiles: [:], specHash: "h",
            pipelineName: "chain"))
        try await queue.enqueue(batch: "b1", items: [QueuedItem(index: 0, line: 1, input: .success("x"))])
        try await queue.sealBatch("b1")
        try store.leases.acquire("b1")
        let claim = try #require(try await queue.claim(batch: "b1", worker: "w", limit: 1, lease: .seconds(3600)).first)

        let lifecycle = RunLifecycle(store: store, holdsRuns: false)
        let run = try await lifecycle.start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID,
            write: { run throws(StoreError) in try await queue.startRun(run, for: claim) })
        let leases = try #require(store.leases as? FileRunLeases)
        #expect(!FileManager.default.fileExists(atPath: leases.path(run.id)))
        // The item's start is queued, not awaited: a read on the store's queue comes after it.
        _ = try await store.read { _ in true }
        let reader = try RunStore(path: folder.storePath)
        let running = try #require(try await reader.run(run.id))
        #expect(running.row.status == .running && running.row.holder?.pid == getpid())

        let result = try await Self.runner(ScriptedProvider(answer: StoreJournalRunTests.answer())).with(journal: run.journal)
            .run(input: "x")
        let gaps = await lifecycle.finish(run, result)
        #expect(gaps.records == nil && gaps.end == nil)
        let detail = try #require(try await reader.run(run.id))
        #expect(detail.row.status == .succeeded && detail.stages.count == 4 && detail.calls.count == 4)
        store.leases.release("b1")
    }

    /// Runs recorded at once share their commits, in order, and a write that fails takes
    /// nothing else with it: 40 runs started and finished together are all there, whole,
    /// around a write that fails.
    @Test func runsRecordedTogetherAreEachWhole() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let lifecycle = RunLifecycle(store: store)
        let failed = Locked<StoreError?>(nil)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<40 {
                group.addTask {
                    if index == 20 {
                        store.enqueue({ db in
                            try db.execute(
                                sql: "INSERT INTO runs (id, spec_path, spec_hash, name, status, started_at, input) VALUES ('half', '', '', '', 'running', '', '')")
                            try db.execute(sql: "INSERT INTO no_such_table VALUES (1)")
                        }, done: { error in failed.withLock { $0 = error } })
                    }
                    let done = try await lifecycle.perform(
                        try Self.runner(ScriptedProvider(answer: StoreJournalRunTests.answer())), specPath: "/specs/chain.yaml",
                        input: .string("x\(index)"), traceID: Self.traceID)
                    #expect(done.gaps.records == nil && done.gaps.end == nil)
                    return done.run.id
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(failed.withLock { $0 } != nil)
        #expect(try await store.run("half") == nil)
        for id in ids {
            let detail = try #require(try await store.run(id))
            #expect(detail.row.status == .succeeded && detail.stages.count == 4 && detail.calls.count == 4)
        }
        #expect(Set(ids).count == 40)
    }

    /// `pipe run`'s store (opened `recording`) found its run an id when it opened, and queues
    /// the run's start instead of waiting for it: while another connection holds the store's
    /// write lock, the run starts and its calls are made; once the lock is let go, the start,
    /// every record and the end are there, in order.
    @Test func aRecordingStoresRunStartsWithoutWaitingForItsWrite() async throws {
        let folder = try TemporaryFolder()
        let store = try await RunStores.open(folder.storePath, create: true, recording: true)
        let reader = try RunStore(path: folder.storePath)
        let lifecycle = RunLifecycle(store: store)
        let letGo = try await Self.holdWriteLock(folder.storePath)

        let provider = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let run = try await lifecycle.start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID)
        let result = try await Self.runner(provider).with(journal: run.journal).run(input: "x")
        #expect(result.outcome.status == .succeeded && provider.calls.count == 4)
        #expect(try await reader.run(run.id) == nil)

        letGo.signal()
        let gaps = await lifecycle.finish(run, result)
        #expect(gaps.records == nil && gaps.end == nil)
        let detail = try #require(try await reader.run(run.id))
        #expect(detail.row.status == .succeeded && detail.stages.count == 4 && detail.calls.count == 4)
        #expect(detail.stages.allSatisfy { $0.fingerprint?.count == 64 })
    }

    /// `pipe run`'s store commits the records that come within its window of the last commit
    /// together: none is committed while the window lasts (here 10 minutes), all of them in
    /// one commit as soon as the run flushes them, without waiting for the window's end.
    @Test func aRecordingStoresRecordsWaitForTheirWindowUntilSomethingWaitsForThem() async throws {
        let folder = try TemporaryFolder()
        let store = try #require(try await RunStores.open(folder.storePath, create: true, recording: true) as? RunStore)
        store.recordsWindow.withLock { $0 = .seconds(600) }
        let commits = Locked(0)
        try await store.database.writeWithoutTransaction { db in
            db.add(transactionObserver: CommitCounter(commits), extent: .databaseLifetime)
        }
        let reader = try RunStore(path: folder.storePath)
        let run = try await RunLifecycle(store: store).start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID)
        // A read waits for the run's start (queued before it), and so ends that group's wait.
        #expect(try await store.runs(limit: 5).map(\.id) == [run.id])
        let before = commits.withLock { $0 }

        let journal = try #require(run.journal)
        for index in 0..<10 { await journal.record(StoreSamples.call(stage: "s\(index)", key: "key-\(index)")) }
        await journal.record(StoreSamples.stage("s9"))
        #expect(try await reader.run(run.id)?.calls.isEmpty == true)
        #expect(commits.withLock { $0 } == before)

        #expect(await journal.flush() == nil)
        let detail = try #require(try await reader.run(run.id))
        #expect(detail.calls.map(\.stage) == (0..<10).map { "s\($0)" } && detail.stages.map(\.stage) == ["s9"])
        #expect(commits.withLock { $0 } == before + 1)
    }

    /// A group of `pipe run`'s records waits its window (here 10 minutes) from its first write
    /// too, while other units of the run are running; once none is (`RunJournal.idle`: in a
    /// chain, between a stage's end and the next one's start; after the last) it is committed
    /// at once, without a flush and before the run's end is queued.
    @Test func aRecordingStoresRecordsAreCommittedWhenNoUnitOfTheRunIsRunning() async throws {
        let folder = try TemporaryFolder()
        let store = try #require(try await RunStores.open(folder.storePath, create: true, recording: true) as? RunStore)
        store.recordsWindow.withLock { $0 = .seconds(600) }
        let reader = try RunStore(path: folder.storePath)
        let run = try await RunLifecycle(store: store).start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID)
        let provider = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let result = try await Self.runner(provider).with(journal: run.journal).run(input: "x")
        #expect(result.outcome.status == .succeeded && provider.calls.count == 4)

        // Neither flushed nor ended: read from another connection until the commit shows.
        var detail = try await reader.run(run.id)
        let patience = ContinuousClock.now + .seconds(60)
        while detail?.calls.count != 4, ContinuousClock.now < patience {
            try await Task.sleep(for: .milliseconds(20))
            detail = try await reader.run(run.id)
        }
        #expect(detail?.row.status == .running)
        #expect(detail?.calls.count == 4 && detail?.stages.count == 4)
    }

    /// `pipe run`'s store opens on a thread at a lower priority (10 nice steps, at most 19),
    /// so that the compile beside it keeps the core; the threads that called it keep theirs.
    @Test func aThreadLowersOnlyItsOwnPriority() async {
        let thisThread = __priority_which_t(PRIO_PROCESS.rawValue)
        let (before, lowered, after) = await onOwnThread { () -> (Int32, Int32, Int32) in
            let before = getpriority(thisThread, 0)
            let lowered = Locked<Int32>(0), done = DispatchSemaphore(value: 0)
            Thread {
                lowerThisThreadsPriority()
                lowered.withLock { $0 = getpriority(thisThread, 0) }
                done.signal()
            }.start()
            done.wait()
            return (before, lowered.withLock { $0 }, getpriority(thisThread, 0))
        }
        #expect(lowered == min(before + 10, 19))
        #expect(after == before)
    }

    /// If another process records a run under the id a recording store found free (a batch's
    /// item, which holds no lock file, in the same second with the same random digits), the
    /// queued start fails: none of this run's records go into that run, and its end says why.
    @Test func aQueuedStartWhoseIDWasTakenMeanwhileWritesNothingIntoTheOtherRun() async throws {
        let folder = try TemporaryFolder()
        let store = try #require(try await RunStores.open(folder.storePath, create: true, recording: true) as? RunStore)
        let id = try #require(store.reservedID.withLock { $0 })
        let other = try RunStore(path: folder.storePath)
        #expect(try await other.write { db in try RunStore.insert(StoreSamples.newRun(), id: id, startedAt: Date(), into: db) })

        let lifecycle = RunLifecycle(store: store)
        let run = try await lifecycle.start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(StoreJournalRunTests.spec), input: "x", traceID: Self.traceID)
        #expect(run.id == id)
        let result = try await Self.runner(ScriptedProvider(answer: StoreJournalRunTests.answer())).with(journal: run.journal)
            .run(input: "x")
        let gaps = await lifecycle.finish(run, result)
        #expect(gaps.end?.description.contains("run \(id)'s start could not be recorded: ") == true)
        #expect(gaps.records != nil)
        let detail = try #require(try await other.run(id))
        #expect(detail.row.status == .running && detail.row.pipelineName == "report")
        #expect(detail.stages.isEmpty && detail.calls.isEmpty)
    }
}

/// Counts the commits of a connection.
private final class CommitCounter: TransactionObserver {
    let commits: Locked<Int>

    init(_ commits: Locked<Int>) {
        self.commits = commits
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
    func databaseDidRollback(_ db: Database) {}
}
