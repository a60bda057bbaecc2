import Foundation
import Testing
@testable import PipeKit

/// A run's life in the store through `RunLifecycle`, as `pipe run`, `pipe approve` and
/// `pipe batch` use it: records written behind the run and all there once it has finished,
/// runs to resume held by one process at a time.
@Suite struct RunLifecycleTests {
    /// a -> b -> c
    static let chain = """
        version: 1
        models: { m: { provider: mock } }
        defaults: { model: m, retries: 0 }
        stages:
          a: { prompt: "A {{ input }}" }
          b: { prompt: "B {{ a }}" }
          c: { prompt: "C {{ b }}" }
        output: "{{ c }}"
        """

    static let traceID = String(repeating: "0", count: 32)

    static func runner(_ provider: ScriptedProvider) throws -> PipelineRunner {
        try PipelineRunner(pipeline: try compileSpec(chain)) { _ throws(ProviderError) in provider }
    }

    static func answer(failing stage: String? = nil) -> ScriptedProvider.Answer {
        { request, _ throws(ProviderError) in
            if request.stageName == stage {
                throw .status(code: 400, provider: .mock, message: "bad request", retryAfter: nil)
            }
            return "\(request.stageName)(\(request.messages[0].content))"
        }
    }

    /// While another connection holds the store's write lock, no record can be written: the
    /// whole chain still runs (each stage starts without waiting for its dependency's record),
    /// and once the lock is let go, `finish` leaves every call and stage in the store.
    @Test func stagesDoNotWaitForTheirRecords() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let blocker = try RunStore(path: folder.storePath), reader = try RunStore(path: folder.storePath)
        let lifecycle = RunLifecycle(store: store)
        let provider = ScriptedProvider(answer: Self.answer())
        let run = try await lifecycle.start(
            specPath: "/specs/chain.yaml", pipeline: try compileSpec(Self.chain), input: "x", traceID: Self.traceID)

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

        let result = try await Self.runner(provider).with(journal: run.journal).run(input: "x")
        #expect(result.outcome.status == .succeeded)
        #expect(provider.calls.map(\.stage) == ["a", "b", "c"])
        #expect(try await reader.run(run.id)?.stages.isEmpty == true)

        letGo.signal()
        let gaps = await lifecycle.finish(run, result)
        #expect(gaps.records == nil && gaps.end == nil)
        let detail = try #require(try await reader.run(run.id))
        #expect(detail.row.status == .succeeded)
        #expect(detail.stages.map(\.stage) == ["a", "b", "c"] && detail.stages.allSatisfy { $0.status == .succeeded })
        #expect(detail.calls.map(\.stage) == ["a", "b", "c"] && detail.calls.allSatisfy { $0.status == .ok })
        #expect(detail.output == "c(C b(B a(A x)))")
    }

    /// The run to resume is held from the moment it is found until the run that continues it
    /// has finished; that run calls only what did not finish.
    @Test func aResumedRunIsHeldUntilItsContinuationFinishes() async throws {
        let folder = try TemporaryFolder()
        let lifecycle = RunLifecycle(store: try RunStore(path: folder.storePath))
        let elsewhere = RunLifecycle(store: try RunStore(path: folder.storePath))
        let failing = ScriptedProvider(answer: Self.answer(failing: "b"))
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

        let working = ScriptedProvider(answer: Self.answer())
        let second = try await lifecycle.perform(
            try Self.runner(working), specPath: "/specs/chain.yaml", input: resumption.input, traceID: Self.traceID,
            resuming: resumption)
        #expect(second.result.outcome.status == .succeeded)
        #expect(working.calls.map(\.stage) == ["b", "c"])
        let detail = try #require(try await lifecycle.store?.run(second.run.id))
        #expect(detail.row.resumedFrom == first.run.id)
        #expect(detail.stages.map(\.status) == [.reused, .succeeded, .succeeded])

        // Let go: another process may resume it now.
        let again = try await elsewhere.resume(first.run.id, specPath: nil)
        await elsewhere.letGo(again.id)
    }

    /// Without a store (`--no-store`) a run is not recorded, and nothing can be resumed.
    @Test func withoutAStoreNothingIsRecorded() async throws {
        let lifecycle = RunLifecycle(store: nil)
        let done = try await lifecycle.perform(
            try Self.runner(ScriptedProvider(answer: Self.answer())), specPath: "/specs/chain.yaml", input: "x",
            traceID: Self.traceID)
        #expect(!done.run.isRecorded && done.result.outcome.status == .succeeded)
        await #expect(throws: RunLookupError.self) { try await lifecycle.resume("last", specPath: nil) }
    }
}
