import Foundation
import Testing
@testable import PipeKit

/// The run store: runs, calls and stages written as they happen and read back.
@Suite struct StoreTests {
    @Test func anUnfinishedRunShowsWhatItsCallsHaveSpent() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let journal = store.journal(runID: id, reusingFrom: nil)
        await journal.record(StoreSamples.call())
        await journal.record(StoreSamples.call(status: .invalid))
        let row = try #require(try await store.runs(limit: 1).first)
        #expect(row.usage == TokenUsage(input: 24, output: 14))
        #expect(row.costUSD == 0.0042)
        try await store.finishRun(id, RunEnd(status: .interrupted, usage: TokenUsage(input: 30, output: 20), costUSD: 0.005, wall: .seconds(2)))
        #expect(try await store.run(id)?.row.usage == TokenUsage(input: 30, output: 20))
    }

    @Test func aRunIsRunningUntilItIsFinished() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let started = try #require(try await store.run(id))
        #expect(started.row.status == .running)
        #expect(started.row.duration == nil)
        #expect(started.row.displayStatus == .running)  // this process is alive
        #expect(started.input == ["topic": "tides"])
        #expect(started.traceID == String(repeating: "ab", count: 16))
        #expect(started.row.specPath == "/specs/report.yaml")
        #expect(started.row.pipelineName == "report")

        try await store.finishRun(id, RunEnd(
            status: .succeeded, usage: TokenUsage(input: 100, output: 40), costUSD: 0.0125, wall: .milliseconds(2500),
            output: ["final": "words"]))
        let finished = try #require(try await store.run(id))
        #expect(finished.row.status == .succeeded)
        #expect(finished.row.duration == .milliseconds(2500))
        #expect(finished.row.usage == TokenUsage(input: 100, output: 40))
        #expect(finished.row.costUSD == 0.0125)
        #expect(finished.output == ["final": "words"])
        #expect(try await store.run("20990101-000000-0000") == nil)
    }

    @Test func aRunningRunThatNoProcessHoldsShowsAsInterrupted() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let killed = try await store.startRun(StoreSamples.newRun())
        let alive = try await store.startRun(StoreSamples.newRun())
        // What the kernel does for a process that dies without recording its end.
        store.leases.release(killed)
        let rows = Dictionary(uniqueKeysWithValues: try await store.runs(limit: 10).map { ($0.id, $0) })
        #expect(rows[killed]?.status == .running)
        #expect(rows[killed]?.displayStatus == .interrupted)
        #expect(rows[alive]?.displayStatus == .running)
        #expect(rows[alive]?.holder?.pid == getpid())
        #expect(RunLogJSON.list([rows[killed]!])[0]?["status"] == "interrupted")
    }

    @Test func aRunIsHeldByOneProcessAtATime() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let holder = try #require(store.leases.holder(of: id))
        #expect(holder.pid == getpid() && holder.host == RunHolder.hostName() && holder.since != nil)
        // Another opener of the store (another process, or this one) cannot take it.
        let other = try RunStore(path: folder.storePath)
        #expect(throws: StoreError.self) { try other.leases.acquire(id) }
        do {
            try other.leases.acquire(id)
        } catch {
            #expect(error.description.hasPrefix("run \(id) is still running in process \(getpid()) on "))
        }
        try await store.finishRun(id, RunEnd(status: .succeeded, usage: .zero, costUSD: nil, wall: .seconds(1)))
        #expect(store.leases.holder(of: id) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.storePath + ".locks/\(id).lock"))
        try other.leases.acquire(id)
        #expect(store.leases.holder(of: id)?.pid == getpid())
    }

    @Test func aLockFileLeftByAKilledHolderIsTakenOverWithOnlyTheNewHoldersText() throws {
        let folder = try TemporaryFolder()
        let leases = FileRunLeases(directory: folder.storePath + ".locks")
        let id = "20261203-070000-abcd"
        // What a killed process on a host with a long name left behind (not locked any more).
        try FileManager.default.createDirectory(atPath: leases.directory, withIntermediateDirectories: true)
        let stale = "99999\n" + String(repeating: "h", count: 200) + "\n2026-12-01T00:00:00.000Z\n"
        try stale.write(toFile: leases.path(id), atomically: false, encoding: .utf8)
        try leases.acquire(id)
        defer { leases.release(id) }
        let text = try String(contentsOfFile: leases.path(id), encoding: .utf8)
        #expect(text == RunHolder(text: text).text && RunHolder(text: text).pid == getpid())
        #expect(FileRunLeases(directory: leases.directory).holder(of: id)?.host == RunHolder.hostName())
    }

    @Test func aRunEndIsTakenFromTheRunnersResult() {
        let report = StageReport(
            unit: RunUnitID(stage: "a"), status: .failed, model: StoreSamples.model, attempts: 3, usage: .zero, costUSD: nil,
            latency: .zero, error: "boom")
        let failed = RunEnd(PipelineRunner.Result(
            outcome: .stageFailed(stage: RunUnitID(stage: "a"), attempts: 3, failure: .rejected(reason: "boom")), stages: [report], wall: .seconds(1),
            usage: TokenUsage(input: 5, output: 1), costUSD: 0, values: [:]))
        #expect(failed.status == .failed)
        #expect(failed.error == "stage `a` failed after 3 attempts: rejected by a person: boom")
        #expect(failed.costUSD == nil)  // no model had a price
        let interrupted = RunEnd(PipelineRunner.Result(
            outcome: .interrupted, stages: [], wall: .seconds(1), usage: .zero, costUSD: 0, values: [:]))
        #expect(interrupted.status == .interrupted)
        let succeeded = RunEnd(PipelineRunner.Result(
            outcome: .succeeded("out"), stages: [], wall: .seconds(1), usage: .zero, costUSD: 0, values: [:]))
        #expect(succeeded.status == .succeeded && succeeded.output == "out")
    }

    @Test func runIDsAreShortSortableAndUnique() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        var ids: [String] = []
        for _ in 0..<40 { ids.append(try await store.startRun(StoreSamples.newRun())) }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.wholeMatch(of: /\d{8}-\d{6}-[0-9a-f]{4}/) != nil, "\(id)")
        }
        // Newest first, whatever the random suffixes.
        #expect(try await store.runs(limit: 100).map(\.id) == ids.reversed())
        #expect(try await store.runs(limit: 3).count == 3)
    }

    @Test func runIDsResolveFromLastAnExactIDOrAUniquePrefix() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let a = try await store.startRun(StoreSamples.newRun(spec: "/specs/a.yaml"))
        let b = try await store.startRun(StoreSamples.newRun(spec: "/specs/b.yaml"))
        #expect(try await store.resolveRunID("last") == b)
        #expect(try await store.resolveRunID("last", specPath: "/specs/a.yaml") == a)
        #expect(try await store.resolveRunID("last", specPath: "/specs/../specs/a.yaml") == a)
        #expect(try await store.resolveRunID("last", specPath: "/specs/c.yaml") == nil)
        #expect(try await store.resolveRunID(a) == a)
        #expect(try await store.resolveRunID("nope") == nil)
        #expect(try await store.resolveRunID("%") == nil)  // not a LIKE pattern
        // Both started this second: the date and time are a prefix of both, the whole id of one.
        let shared = String(a.prefix(15))
        if b.hasPrefix(shared) {
            await #expect(throws: StoreError.self) { try await store.resolveRunID(shared) }
        }
        #expect(try await store.resolveRunID(String(a.prefix(18))) == a || a.prefix(18) == b.prefix(18))
    }

    @Test func theJournalRecordsCallsAndStagesAsTheyHappen() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let journal = store.journal(runID: id, reusingFrom: nil)
        await journal.record(StoreSamples.call(status: .invalid, reply: "not json", problems: ["expected a JSON value"]))
        await journal.record(StoreSamples.call())
        await journal.record(StoreSamples.stage())
        #expect(await journal.flush() == nil)

        // Read back through a second store on the same file, as `pipe logs` does.
        let detail = try #require(try await RunStore(path: folder.storePath).run(id))
        #expect(detail.calls.count == 2)
        let invalid = detail.calls[0], ok = detail.calls[1]
        #expect(invalid.status == .invalid)
        #expect(invalid.problems == ["expected a JSON value"])
        #expect(invalid.reply == "not json")
        #expect(ok.status == .ok)
        #expect(ok.usage == TokenUsage(input: 12, output: 7))
        #expect(ok.costUSD == 0.0021)
        #expect(ok.latency == .milliseconds(345))
        #expect(ok.provider == "anthropic" && ok.modelName == "fast" && ok.model == "claude-test")
        #expect(ok.request == [
            "provider": "anthropic", "model": "claude-test", "system": "Be brief.",
            "messages": [["role": "user", "content": "Summarize tides"]],
            "schema": ["type": "object", "required": ["text"]], "max_tokens": 200, "temperature": 0.2,
        ])
        let stage = try #require(detail.stages.first)
        #expect(detail.stages.count == 1)
        #expect(stage.stage == "summary" && stage.status == .succeeded && !stage.reused)
        #expect(stage.attempts == 2)
        #expect(stage.usage == TokenUsage(input: 24, output: 14))
        #expect(stage.output == ["text": "moon"])
        #expect(stage.latency == .milliseconds(900))
        #expect(stage.fingerprint == "fp-1")
    }

    /// Ctrl-C cancels the run's tasks; what they report while stopping is still recorded.
    @Test func aCancelledTaskStillRecords() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let journal = store.journal(runID: id, reusingFrom: nil)
        let task = Task {
            try? await Task.sleep(for: .seconds(30))
            #expect(Task.isCancelled)
            await journal.record(StoreSamples.call(status: .failed, reply: nil, problems: ["cancelled"]))
            await journal.record(StoreSamples.stage(status: .cancelled, output: nil, error: "cancelled"))
        }
        task.cancel()
        await task.value
        #expect(await journal.flush() == nil)
        #expect(try await store.run(id)?.calls.count == 1)
        #expect(try await store.run(id)?.stages.first?.status == .cancelled)
    }

    @Test func aJournalForAnUnknownRunKeepsTheErrorAndDoesNotThrow() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let journal = store.journal(runID: "no-such-run", reusingFrom: nil)
        await journal.record(StoreSamples.call())
        #expect(await journal.flush() != nil)
    }

    @Test func reusableOutputComesOnlyFromTheNamedRunsFinishedStagesWithTheSameFingerprint() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let earlier = try await store.startRun(StoreSamples.newRun())
        let other = try await store.startRun(StoreSamples.newRun())
        let write = store.journal(runID: earlier, reusingFrom: nil)
        await write.record(StoreSamples.stage("a", output: "from earlier", fingerprint: "fp-a"))
        await write.record(StoreSamples.stage("b", status: .failed, output: nil, fingerprint: "fp-b", error: "boom"))
        await write.record(StoreSamples.stage("c", status: .cancelled, output: nil, fingerprint: "fp-c"))
        await store.journal(runID: other, reusingFrom: nil).record(StoreSamples.stage("d", output: "other", fingerprint: "fp-d"))

        let resumed = try await store.startRun(StoreSamples.newRun(resumedFrom: earlier))
        let journal = store.journal(runID: resumed, reusingFrom: earlier)
        #expect(await journal.reusableOutput(stage: "a", fingerprint: "fp-a") == "from earlier")
        #expect(await journal.reusableOutput(stage: "a", fingerprint: "fp-changed") == nil)
        #expect(await journal.reusableOutput(stage: "x", fingerprint: "fp-a") == nil)
        #expect(await journal.reusableOutput(stage: "b", fingerprint: "fp-b") == nil)
        #expect(await journal.reusableOutput(stage: "c", fingerprint: "fp-c") == nil)
        #expect(await journal.reusableOutput(stage: "d", fingerprint: "fp-d") == nil)  // another run's
        #expect(await store.journal(runID: resumed, reusingFrom: nil).reusableOutput(stage: "a", fingerprint: "fp-a") == nil)
        // `--cache` of a command stage: a finished stage of any run, by its fingerprint alone.
        let cache = store.journal(runID: resumed, reusingFrom: nil)
        #expect(await cache.cachedOutput(fingerprint: "fp-a") == "from earlier")
        #expect(await cache.cachedOutput(fingerprint: "fp-b") == nil)
        #expect(await cache.cachedOutput(fingerprint: "fp-changed") == nil)

        // A reused stage can be reused again by a run that resumes the resumed run.
        await journal.record(StoreSamples.stage("a", status: .reused, output: "from earlier", fingerprint: "fp-a"))
        let again = store.journal(runID: "unused", reusingFrom: resumed)
        #expect(await again.reusableOutput(stage: "a", fingerprint: "fp-a") == "from earlier")
        let reused = try #require(try await store.run(resumed)?.stages.first)
        #expect(reused.reused && reused.status == .reused)
        #expect(try await store.run(resumed)?.row.resumedFrom == earlier)
    }

    @Test func cachedRepliesComeOnlyFromOKCallsOfAnyRun() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let first = store.journal(runID: try await store.startRun(StoreSamples.newRun()), reusingFrom: nil)
        await first.record(StoreSamples.call(status: .invalid, reply: "nope", key: "k-invalid"))
        await first.record(StoreSamples.call(status: .failed, reply: nil, key: "k-failed", problems: ["HTTP 500"]))
        await first.record(StoreSamples.call(status: .cached, reply: "cached", key: "k-cached"))
        await first.record(StoreSamples.call(status: .ok, reply: "older", key: "k-ok"))
        let second = store.journal(runID: try await store.startRun(StoreSamples.newRun()), reusingFrom: nil)
        await second.record(StoreSamples.call(status: .ok, reply: "newer", key: "k-ok"))
        await second.record(StoreSamples.call(status: .invalid, reply: "newest but invalid", key: "k-ok"))

        let reader = store.journal(runID: try await store.startRun(StoreSamples.newRun()), reusingFrom: nil)
        let hit = await reader.cachedReply(key: "k-ok")
        #expect(hit?.answerText == "newer")
        #expect(hit?.usage == TokenUsage(input: 12, output: 7))
        #expect(await reader.cachedReply(key: "k-invalid") == nil)
        #expect(await reader.cachedReply(key: "k-failed") == nil)
        #expect(await reader.cachedReply(key: "k-cached") == nil)
        #expect(await reader.cachedReply(key: "k-unknown") == nil)
    }

    @Test func theStoreIsPrivateToItsOwner() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        await store.journal(runID: id, reusingFrom: nil).record(StoreSamples.call())
        func mode(_ path: String) throws -> Int {
            try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }
        #expect(try mode(folder.storePath) == 0o600)
        #expect(try mode(folder.storePath + "-wal") == 0o600)
        #expect(try mode(folder.storePath + "-shm") == 0o600)
        #expect(try mode(folder.url.appendingPathComponent(".pipe").path) == 0o700)
    }

    @Test func theDefaultPathIsBesideTheSpec() {
        #expect(RunStore.defaultPath(forSpec: "/work/specs/report.yaml") == "/work/specs/.pipe/pipe.db")
        #expect(RunStore.defaultPath(forSpec: "report.yaml") == "./.pipe/pipe.db")
        #expect(RunStore.defaultPath(forSpec: "specs/report.yaml") == "specs/.pipe/pipe.db")
        #expect(RunStore.defaultPath(forSpec: "-") == "./.pipe/pipe.db")
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let folder = try TemporaryFolder()
        let path = folder.url.appendingPathComponent("junk.db").path
        try Data(String(repeating: "not sqlite ", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try RunStore(path: path)
            Issue.record("opened a file that is not a database")
        } catch {
            #expect(error.description.contains("cannot open the run store \(path)"), "\(error)")
        }
    }
}
