import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// The runner writing through the store's journal: resume reuses the stages a failed run
/// finished, the cache reuses successful calls, and the store never sees an API key.
@Suite struct StoreJournalRunTests {
    /// a -> b -> d, a -> c -> d; c's model fails the first time.
    static let spec = """
        version: 1
        models: { m: { provider: mock } }
        defaults: { model: m, retries: 0 }
        stages:
          a: { prompt: "A {{ input }}" }
          b: { prompt: "B {{ a }}" }
          c: { prompt: "C {{ a }}" }
          d: { prompt: "D {{ b }} {{ c }}" }
        output: "{{ d }}"
        """

    func run(
        _ pipeline: CompiledPipeline, store: RunStore, provider: ScriptedProvider, resuming: String? = nil,
        cache: Bool = false
    ) async throws -> (id: String, result: PipelineRunner.Result, journal: any DurableJournal) {
        let id = try await store.startRun(StoreSamples.newRun(input: "x", resumedFrom: resuming))
        let journal = store.journal(runID: id, reusingFrom: resuming)
        let runner = try PipelineRunner(
            pipeline: pipeline,
            options: .init(retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)), journal: journal, cacheEverything: cache)
        ) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "x")
        try await store.finishRun(id, RunEnd(result))
        return (id, result, journal)
    }

    static func answer(failing stage: String? = nil) -> ScriptedProvider.Answer {
        { request, _ throws(ProviderError) in
            if request.stageName == stage {
                throw .status(code: 400, provider: .mock, message: "bad request", retryAfter: nil)
            }
            return "\(request.stageName)(\(request.messages[0].text))"
        }
    }

    @Test func aResumedRunCallsOnlyTheStagesThatDidNotFinish() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let pipeline = try compileSpec(Self.spec)

        let failing = ScriptedProvider(answer: Self.answer(failing: "c"))
        let first = try await run(pipeline, store: store, provider: failing)
        guard case .stageFailed(stage: RunUnitID(stage: "c"), _, _) = first.result.outcome else {
            Issue.record("\(first.result.outcome)")
            return
        }
        let failed = try #require(try await store.run(first.id))
        #expect(failed.row.status == .failed)
        #expect(failed.row.error?.contains("stage `c` failed") == true)
        #expect(failed.calls.first { $0.stage == "c" }?.status == .failed)
        #expect(failed.calls.first { $0.stage == "c" }?.problems.first?.contains("bad request") == true)

        let working = ScriptedProvider(answer: Self.answer())
        let resumed = try await run(pipeline, store: store, provider: working, resuming: first.id)
        // `b` may or may not have finished before `c` failed and the run stopped.
        let finishedBefore = Set(failed.stages.filter { $0.status == .succeeded }.map(\.stage))
        #expect(finishedBefore.contains("a"))
        #expect(Set(working.calls.map(\.stage)) == Set(["a", "b", "c", "d"]).subtracting(finishedBefore))

        let uninterrupted = try await run(pipeline, store: store, provider: ScriptedProvider(answer: Self.answer()))
        guard case .succeeded(let output) = resumed.result.outcome, case .succeeded(let expected) = uninterrupted.result.outcome
        else {
            Issue.record("\(resumed.result.outcome)")
            return
        }
        #expect(output == expected)
        let detail = try #require(try await store.run(resumed.id))
        #expect(detail.row.status == .succeeded)
        #expect(detail.row.resumedFrom == first.id)
        #expect(Set(detail.stages.filter(\.reused).map(\.stage)) == finishedBefore)
        #expect(detail.output == expected)
    }

    @Test func aStageWhoseInputsChangedIsNotReused() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let first = try await run(try compileSpec(Self.spec), store: store, provider: ScriptedProvider(answer: Self.answer()))
        let edited = try compileSpec(Self.spec.replacingOccurrences(of: "C {{ a }}", with: "C, edited: {{ a }}"))
        let provider = ScriptedProvider(answer: Self.answer())
        _ = try await run(edited, store: store, provider: provider, resuming: first.id)
        // c changed, d reads c: both run again; a and b are reused.
        #expect(provider.calls.map(\.stage).sorted() == ["c", "d"])
    }

    @Test func theCacheAnswersIdenticalCallsOfEarlierRuns() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let pipeline = try compileSpec(Self.spec)
        _ = try await run(pipeline, store: store, provider: ScriptedProvider(answer: Self.answer()), cache: true)

        let provider = ScriptedProvider(answer: Self.answer())
        let cached = try await run(pipeline, store: store, provider: provider, cache: true)
        #expect(provider.calls.isEmpty)
        let detail = try #require(try await store.run(cached.id))
        #expect(detail.calls.count == 4 && detail.calls.allSatisfy { $0.status == .cached })

        // Editing one stage calls it and what depends on it, and nothing else.
        let edited = try compileSpec(Self.spec.replacingOccurrences(of: "B {{ a }}", with: "B, edited: {{ a }}"))
        let after = ScriptedProvider(answer: Self.answer())
        _ = try await run(edited, store: store, provider: after, cache: true)
        #expect(after.calls.map(\.stage).sorted() == ["b", "d"])
    }

    @Test func theCacheNeverReusesAnInvalidReply() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let pipeline = try compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m, retries: 0 }
            stages:
              a:
                prompt: "A"
                output: { schema: { type: object, required: [n], properties: { n: { type: integer } } } }
            """)
        _ = try await run(pipeline, store: store, provider: ScriptedProvider { _, _ in #"{"n": "one"}"# }, cache: true)
        let provider = ScriptedProvider { _, _ in #"{"n": 1}"# }
        let second = try await run(pipeline, store: store, provider: provider, cache: true)
        #expect(provider.calls.count == 1)
        #expect(try await store.run(second.id)?.calls.map(\.status) == [.ok])
    }

    /// The real providers over HTTP, with a key in the environment: the fake server sees the
    /// key in its headers, the store's bytes never hold it.
    @Test func noAPIKeyIsEverStored() async throws {
        let secret = "sk-ant-STORE-SECRET-0123456789abcdef"
        let server = FakeLLMServer { request in
            request.prompt.contains("STAGE plan") ? .text(#"{"steps": ["measure"]}"#)
                : request.prompt.contains("STAGE draft") ? .text(#"{"text": "Tides."}"#) : .text("words")
        }
        try server.start()
        defer { server.stop() }
        let factory = ProviderFactory(environment: [
            "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": secret, "OPENAI_API_KEY": secret,
        ])
        let pipeline = try compileSpec(
            try String(contentsOf: Paths.testdata.appendingPathComponent("run/chain.yaml"), encoding: .utf8))
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let id = try await store.startRun(StoreSamples.newRun())
        let journal = store.journal(runID: id, reusingFrom: nil)
        let runner = try PipelineRunner(pipeline: pipeline, options: .init(journal: journal)) {
            model throws(ProviderError) in try factory.provider(for: model)
        }
        let result = await runner.run(input: ["topic": "tides"])
        guard case .succeeded = result.outcome else {
            Issue.record("\(result.outcome)")
            return
        }
        try await store.finishRun(id, RunEnd(result))
        #expect(server.log.contains { entry in entry.request.headers.contains { $0.value.contains(secret) } })
        #expect(try await store.run(id)?.calls.count == 5)

        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: folder.storePath + suffix))) ?? Data()
        }
        #expect(bytes.count > 10_000)
        #expect(bytes.range(of: Data("Tides.".utf8)) != nil)  // replies are there, so the search works
        #expect(bytes.range(of: Data(secret.utf8)) == nil)
        #expect(bytes.range(of: Data("STORE-SECRET".utf8)) == nil)
    }
}
