import Foundation
import GRDB
import Testing
@testable import PipeKit

/// The storage ports (`RunCatalog`, `RunApprovals`, `DurableJournal`) as the commands use
/// them: opened through `RunStores.open`, exercised on the embedded SQLite store.
@Suite struct StorePortsTests {
    @Test func aMissingStoreIsOpenedOnlyWhenItMayBeCreated() async throws {
        let folder = try TemporaryFolder()
        do {
            _ = try await RunStores.open(folder.storePath, create: false)
            Issue.record("opened a store that does not exist")
        } catch {
            guard case .missing(let path) = error else { throw error }
            #expect(path == folder.storePath)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.storePath))
        let created = try await RunStores.open(folder.storePath, create: true)
        #expect(created.location == folder.storePath)
        _ = try await RunStores.open(folder.storePath, create: false)
    }

    @Test func theCatalogListsShowsAndResolvesRuns() async throws {
        let folder = try TemporaryFolder()
        let store = try await RunStores.open(folder.storePath, create: true)
        let a = try await store.startRun(StoreSamples.newRun(spec: "/specs/a.yaml", input: "first"))
        let journal = store.journal(runID: a, reusingFrom: nil)
        await journal.record(StoreSamples.call(stage: "facts"))
        await journal.record(StoreSamples.stage("facts", output: "moon"))
        await journal.record(StoreSamples.call(stage: "summary", status: .invalid, reply: "no"))
        await journal.record(StoreSamples.stage("summary", status: .failed, output: nil, error: "invalid"))
        #expect(await journal.flush() == nil)
        try await store.finishRun(a, RunEnd(status: .failed, usage: TokenUsage(input: 24, output: 14), costUSD: nil, wall: .seconds(3), error: "boom"))
        let b = try await store.startRun(StoreSamples.newRun(spec: "/specs/b.yaml", input: "second"))

        #expect(try await store.runs(limit: 10, specPath: nil).map(\.id) == [b, a])
        #expect(try await store.runs(limit: 1, specPath: nil).map(\.id) == [b])
        #expect(try await store.runs(limit: 10, specPath: "/specs/a.yaml").map(\.id) == [a])
        #expect(try await store.resolveRunID("last", specPath: nil) == b)
        #expect(try await store.resolveRunID("last", specPath: "/specs/a.yaml") == a)
        #expect(try await store.resolveRunID(String(a.prefix(19)), specPath: nil) == a || a.prefix(19) == b.prefix(19))
        #expect(try await store.resolveRunID("2099", specPath: nil) == nil)

        let detail = try #require(try await store.run(a))
        #expect(detail.row.status == .failed && detail.row.error == "boom" && detail.input == "first")
        #expect(detail.stages.map(\.stage) == ["facts", "summary"])
        #expect(detail.stages.map(\.status) == [.succeeded, .failed])
        #expect(detail.calls.map(\.stage) == ["facts", "summary"])
        #expect(detail.calls.map(\.status) == [.ok, .invalid])
        #expect(try await store.run("20990101-000000-0000") == nil)
    }

    /// Liveness is the lease: a `running` run is running while a process holds it.
    @Test func aRunIsAliveWhileItsLeaseIsHeld() async throws {
        let folder = try TemporaryFolder()
        let store = try await RunStores.open(folder.storePath, create: true)
        let other = try await RunStores.open(folder.storePath, create: false)
        let id = try await store.startRun(StoreSamples.newRun())
        let running = try #require(try await other.runs(limit: 1, specPath: nil).first)
        #expect(running.displayStatus == .running && running.holder?.pid == getpid())
        // Another opener cannot hold it, and is told who does.
        do {
            try await other.hold(id)
            Issue.record("held a run another opener holds")
        } catch {
            guard case .runInUse(let runID, let holder) = error else { throw error }
            #expect(runID == id && holder.pid == getpid())
        }
        // Let go (as the kernel does for a killed process): still `running` in the table, shown as interrupted.
        await store.release(id)
        let orphan = try #require(try await other.run(id))
        #expect(orphan.row.status == .running && orphan.row.holder == nil && orphan.row.displayStatus == .interrupted)
        try await other.hold(id)
        #expect(try await store.run(id)?.row.displayStatus == .running)
        await other.release(id)
    }

    @Test func approvalsAreRecordedReplacedAndRejected() async throws {
        let folder = try TemporaryFolder()
        let store = try await RunStores.open(folder.storePath, create: true)
        let id = try await store.startRun(StoreSamples.newRun())
        let journal = store.journal(runID: id, reusingFrom: nil)
        await journal.record(StoreSamples.stage("draft"))
        await journal.record(StoreSamples.stage("publish", status: .waiting, output: nil, fingerprint: nil))
        await journal.record(StoreSamples.stage("notify", status: .waiting, output: nil, fingerprint: nil))
        #expect(await journal.flush() == nil)
        #expect(try await store.waitingStages(runID: id) == ["publish", "notify"])

        try await store.recordApproval(runID: id, stage: "publish", decision: .rejected, reason: "not yet")
        try await store.recordApproval(runID: id, stage: "publish", decision: .approved, reason: nil)  // replaces it
        #expect(try await store.approvedStages(runID: id) == ["publish"])

        try await store.reject(runID: id, stages: ["publish", "notify"], reason: "too late")
        #expect(try await store.approvedStages(runID: id) == [])
        let rejected = try #require(try await store.run(id))
        #expect(rejected.row.status == .rejected && rejected.row.error == "rejected: too late")
    }

    /// A stage that called nothing of its own has no fingerprint: its status says what it is.
    @Test func statusesAreColumnsAndOnlyFingerprintedStagesAreReused() async throws {
        let folder = try TemporaryFolder()
        let store = try await RunStores.open(folder.storePath, create: true)
        let pipeline = try compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            stages:
              plan:
                model: m
                prompt: "Plan {{ input }}"
                mock: [{ items: [a, b], go: false }]
                output: { schema: { type: object, required: [items, go], properties: { items: { type: array, items: { type: string } }, go: { type: boolean } } } }
              each: { model: m, for_each: plan.items, prompt: "Do {{ item }}" }
              maybe: { model: m, when: plan.go, prompt: "Maybe {{ input }}" }
            output: { each: "{{ each }}", maybe: "{{ maybe ?? 'none' }}" }
            """)
        let lifecycle = RunLifecycle(store: store)
        let factory = ProviderFactory(
            environment: [:], forceMock: true,
            mockReplies: Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.mockReplies) }))
        let runner = try PipelineRunner(pipeline: pipeline) { model throws(ProviderError) in try factory.provider(for: model) }
        let first = try await lifecycle.perform(runner, specPath: "/specs/p.yaml", input: "x", traceID: String(repeating: "0", count: 32))
        #expect(first.result.outcome.status == .succeeded)
        let stages = try #require(try await store.run(first.run.id)).stages
        let byName = Dictionary(stages.map { ($0.stage, $0) }, uniquingKeysWith: { $1 })
        #expect(byName["maybe"]?.status == .skipped && byName["maybe"]?.fingerprint == nil)
        #expect(byName["each"]?.status == .succeeded && byName["each"]?.fingerprint == nil)
        #expect(byName["each[0]"]?.fingerprint?.count == 64 && byName["plan"]?.fingerprint?.count == 64)

        // Resumed, the stages with a fingerprint are reused; the skipped one is judged again.
        let resumption = try await lifecycle.resume(first.run.id, specPath: nil)
        let second = try await lifecycle.perform(
            runner, specPath: "/specs/p.yaml", input: resumption.input, traceID: String(repeating: "0", count: 32),
            resuming: resumption)
        let again = try #require(try await store.run(second.run.id)).stages
        #expect(again.filter { ["plan", "each[0]", "each[1]"].contains($0.stage) }.allSatisfy { $0.status == .reused })
        #expect(again.first { $0.stage == "each" }?.status == .reused)
        #expect(again.first { $0.stage == "maybe" }?.status == .skipped)
    }

    /// A store one migration behind is brought up to date when `pipe run` opens it (the quick
    /// check that lets a current store open without the migrator counts every migration), and
    /// a run is then recorded in it; a current store is seen as current.
    @Test func aStoreOneMigrationBehindIsMigratedWhenARunOpensIt() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(
            atPath: (folder.storePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let migrations = StoreSchema.migrator.migrations
        let old = try DatabaseQueue(path: folder.storePath)
        try StoreSchema.migrator.migrate(old, upTo: migrations[migrations.count - 2])
        #expect(try await old.read { db in try StoreSchema.migrator.appliedIdentifiers(db) }.count == migrations.count - 1)
        #expect(try await old.read { db in StoreSchema.isCurrent(db.sqliteConnection) } == false)
        try old.close()

        let store = try await RunStores.open(folder.storePath, create: false, recording: true)
        let id = try await store.startRun(StoreSamples.newRun())
        try await store.finishRun(id, RunEnd(status: .succeeded, usage: .zero, costUSD: nil, wall: .milliseconds(5)))
        let reader = try DatabaseQueue(path: folder.storePath)
        #expect(try await reader.read { db in try StoreSchema.migrator.appliedIdentifiers(db) } == Set(migrations))
        #expect(try await reader.read { db in StoreSchema.isCurrent(db.sqliteConnection) })
        #expect(try #require(try await store.run(id)).row.status == .succeeded)
    }

    /// A store made before the ports (schema v2): runs keep their order, the words that stood
    /// for statuses become no fingerprint, real fingerprints stay.
    @Test func anOlderStoreIsMigrated() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(
            atPath: (folder.storePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: folder.storePath)
        try StoreSchema.migrator.migrate(old, upTo: "v2: approvals")
        try await old.write { db in
            for (id, started) in [("20261121-061502-ffff", "2026-11-21T06:15:02.000Z"), ("20261121-061502-0000", "2026-11-21T06:15:02.000Z")] {
                try db.execute(
                    sql: """
                        INSERT INTO runs (id, spec_path, spec_hash, name, status, started_at, input, trace_id, pid, host)
                        VALUES (?, '/specs/a.yaml', 'h', 'a', 'succeeded', ?, '"x"', 't', 1, 'h')
                        """, arguments: [id, started])
            }
            for (stage, fingerprint) in [("a", "f00d"), ("b", "skipped"), ("c", "approval"), ("d", "for_each")] {
                try db.execute(
                    sql: """
                        INSERT INTO stages (run_id, stage, status, provider, model_name, model, attempts, tokens_in,
                            tokens_out, latency_ms, fingerprint, reused, finished_at)
                        VALUES ('20261121-061502-0000', ?, 'succeeded', 'mock', 'm', 'm', 1, 0, 0, 0, ?, 0, 't')
                        """, arguments: [stage, fingerprint])
            }
        }
        try old.close()
        let store = try await RunStores.open(folder.storePath, create: false)
        #expect(try await store.runs(limit: 10, specPath: nil).map(\.id) == ["20261121-061502-0000", "20261121-061502-ffff"])
        let stages = try #require(try await store.run("20261121-061502-0000")).stages
        #expect(stages.map(\.fingerprint) == ["f00d", nil, nil, nil])
        let newest = try await store.startRun(StoreSamples.newRun())
        #expect(try await store.resolveRunID("last", specPath: nil) == newest)
    }
}
