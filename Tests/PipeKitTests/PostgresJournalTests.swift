import Foundation
import Testing
@testable import PipeKit

/// The runner writing through the PostgreSQL journal: a reclaimed batch item's new run
/// resumes the run its last holder recorded, and calls only the stages that did not finish.
@Suite struct PostgresJournalTests {
    func run(
        _ pipeline: CompiledPipeline, client: PostgresClient, provider: ScriptedProvider, resuming: String? = nil,
        cache: Bool = false
    ) async throws -> (journal: PostgresJournal, result: PipelineRunner.Result) {
        let journal = try await PostgresJournal.start(
            StoreSamples.newRun(input: "x", resumedFrom: resuming), batchItem: ("b1", 7), client: client)
        let runner = try PipelineRunner(
            pipeline: pipeline,
            options: .init(retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)), journal: journal, cacheEverything: cache)
        ) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "x")
        try await journal.finish(RunEnd(result))
        #expect(journal.firstError == nil)
        return (journal, result)
    }

    func rows(_ client: PostgresClient, _ sql: String, _ runID: String) async throws -> [PostgresRow] {
        try await client.withConnection { connection throws(PostgresError) in try connection.query(sql, [runID]) }
    }

    @Test func aResumedRunReusesTheStagesItsPredecessorFinished() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database())
        let pipeline = try compileSpec(StoreJournalRunTests.spec)
        let first = try await run(pipeline, client: client, provider: ScriptedProvider(answer: StoreJournalRunTests.answer(failing: "c")))
        guard case .stageFailed(stage: RunUnitID(stage: "c"), _, _) = first.result.outcome else {
            Issue.record("\(first.result.outcome)")
            return
        }
        let firstID = first.journal.runID
        let failed = try await rows(client, "SELECT status, error, batch_id, item FROM runs WHERE id = $1", firstID)
        #expect(failed.first?["status"] == "failed" && failed.first?["error"]?.contains("stage `c` failed") == true)
        #expect(failed.first?["batch_id"] == "b1" && failed.first?.int("item") == 7)
        let finishedBefore = Set(try await rows(
            client, "SELECT stage FROM stages WHERE run_id = $1 AND status = 'succeeded'", firstID
        ).compactMap { $0["stage"] })
        #expect(finishedBefore.contains("a"))
        let failedCall = try await rows(client, "SELECT status, problems FROM calls WHERE run_id = $1 AND stage = 'c'", firstID)
        #expect(failedCall.first?["status"] == "failed" && failedCall.first?["problems"]?.contains("bad request") == true)

        let working = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let resumed = try await run(pipeline, client: client, provider: working, resuming: firstID)
        #expect(Set(working.calls.map(\.stage)) == Set(["a", "b", "c", "d"]).subtracting(finishedBefore))
        guard case .succeeded = resumed.result.outcome else {
            Issue.record("\(resumed.result.outcome)")
            return
        }
        let resumedID = resumed.journal.runID
        let row = try await rows(client, "SELECT status, resumed_from, output FROM runs WHERE id = $1", resumedID)
        #expect(row.first?["status"] == "succeeded" && row.first?["resumed_from"] == firstID && row.first?["output"] != nil)
        let reused = try await rows(client, "SELECT stage FROM stages WHERE run_id = $1 AND reused", resumedID)
        #expect(Set(reused.compactMap { $0["stage"] }) == finishedBefore)

        // Reclaimed once more: the third run reuses everything, the reused stages included.
        let idle = ScriptedProvider(answer: StoreJournalRunTests.answer())
        _ = try await run(pipeline, client: client, provider: idle, resuming: resumedID)
        #expect(idle.calls.isEmpty)
    }

    @Test func theCacheAnswersIdenticalCallsOfEarlierRuns() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database())
        let pipeline = try compileSpec(StoreJournalRunTests.spec)
        _ = try await run(pipeline, client: client, provider: ScriptedProvider(answer: StoreJournalRunTests.answer()), cache: true)
        let provider = ScriptedProvider(answer: StoreJournalRunTests.answer())
        let cached = try await run(pipeline, client: client, provider: provider, cache: true)
        #expect(provider.calls.isEmpty)
        let calls = try await rows(client, "SELECT status FROM calls WHERE run_id = $1", cached.journal.runID)
        #expect(calls.count == 4 && calls.allSatisfy { $0["status"] == "cached" })
    }

    /// A tool call goes to `tool_calls` as in SQLite, and `pipe logs` reads it back.
    @Test func toolCallsAreRecordedAndReadBack() async throws {
        let client = try await PostgresClient.open(url: try await PostgresServer.shared().database())
        let journal = try await PostgresJournal.start(StoreSamples.newRun(input: "x"), batchItem: nil, client: client)
        await journal.record(
            ToolCallRecord(
                stage: "research", attempt: 1, turn: 2, tool: "kb.lookup", arguments: ["q": "tides"], resultCharacters: 42,
                isError: true, error: "tool server 'kb' stopped: exit 1", duration: .milliseconds(12),
                startedAt: Date(timeIntervalSince1970: 1_796_000_000.25)))
        // Queued like the run's call and stage records: written once the journal is flushed.
        #expect(await journal.flush() == nil)
        let detail = try #require(try await PostgresRunStore(client: client).run(journal.runID))
        let call = try #require(detail.toolCalls.first)
        #expect(call.stage == "research" && call.attempt == 1 && call.turn == 2 && call.tool == "kb.lookup")
        #expect(call.arguments == ["q": "tides"])
        #expect(call.resultCharacters == 42 && call.isError && call.error == "tool server 'kb' stopped: exit 1")
        #expect(call.duration == .milliseconds(12))
        // Its start, for the report's timeline (`pipe worker` items' tool calls too).
        #expect(abs((call.startedAt?.timeIntervalSince1970 ?? 0) - 1_796_000_000.25) < 0.001)
    }
}
