import FakeLLM
import Foundation
import GRDB
import Testing
@testable import PipeKit

/// `pipe batch` stopped by Ctrl-C and resumed, and its input limits, run as a user runs them
/// against the fake server (the spec, replies and store of `BatchCommandTests`).
extension BatchCommandTests {
    @Test func ctrlCRecordsTheItemsInFlightAsInterruptedAndResumeEndsEveryItemOnce() async throws {
        let count = 40
        let input = try items(count)
        try await withServer({ Self.reply($0).delayed(by: .milliseconds(300)) }) { server in
            // Interrupted once the server has seen 8 calls, 4 of them unanswered.
            let live = try await liveBatch(input, server: server, after: 8)
            live.send(SIGINT)
            let stopped = await live.finish()
            #expect(stopped.status == 130, "\(stopped.stderr)")
            #expect(stopped.stderr.contains("pipe: interrupted; cancelling the calls in flight"))
            #expect(stopped.stderr.contains("pipe: continue it with: pipe batch --resume b"))
            let before = server.log.map { Self.item(of: $0.request) ?? -1 }
            #expect(before.count < count)
            let ended = try Self.results(stopped.stdout)

            // The runs of the items in flight are recorded as interrupted, and their items are
            // pending again, pointing at those runs (so that the resume reuses what they did).
            let database = try DatabaseQueue(path: store)
            let interrupted = try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT runs.item AS item, batch_items.status AS status, batch_items.run_id AS run, runs.id AS id
                    FROM runs JOIN batch_items ON batch_items.batch_id = runs.batch_id AND batch_items.item = runs.item
                    WHERE runs.status = 'interrupted'
                    """)
            }
            #expect((1...4).contains(interrupted.count), "\(interrupted)")
            for row in interrupted {
                #expect(row["status"] as String == "pending")
                #expect(row["run"] as String == row["id"] as String)
                #expect(ended[row["item"] as Int] == nil)
            }
            let status = try await runPipe(["batch", "status", "last"], environment: environment(server))
            #expect(status.stdout.contains("\(count - ended.count) pending"), "\(status.stdout)")

            let resumed = try await runPipe(["batch", "--resume", "last"], environment: environment(server))
            #expect(resumed.status == 1, "\(resumed.stderr)")  // item 22 (id 23) has a fault
            let afterResume = try Self.results(resumed.stdout)
            #expect(Set(afterResume.keys).isDisjoint(with: ended.keys))
            let stored = try await runPipe(["batch", "results", "last"], environment: environment(server))
            let lines = try Self.results(stored.stdout)
            #expect(lines.keys.sorted() == Array(0..<count))
            #expect(lines[22]?["status"] == "failed")
            #expect(lines.filter { $0.key != 22 }.values.allSatisfy { $0["status"] == "succeeded" })
            // No call twice, but for the items interrupted in flight.
            var calls: [Int: Int] = [:]
            for entry in server.log { calls[Self.item(of: entry.request) ?? -1, default: 0] += 1 }
            let repeated = calls.filter { $0.value > 1 }
            #expect(repeated.values.allSatisfy { $0 == 2 })
            #expect(Set(repeated.keys).isSubset(of: interrupted.map { ($0["item"] as Int) + 1 }), "\(repeated)")
            #expect(Set(calls.keys) == Set(1...count))
        }
    }

    @Test func anInputOverTheLimitIsInvalidAndTheOthersRun() async throws {
        let big = #"{"id": "2", "text": ""# + String(repeating: "a", count: ReadLimits.input) + #""}"#
        let path = try write([#"{"id": "1", "text": "t"}"#, big, #"{"id": "3", "text": "t"}"#].joined(separator: "\n") + "\n", to: "big.jsonl")
        try await withServer { server in
            let batch = try await runPipe(["batch", spec, "--input", path, "--quiet"], environment: environment(server))
            #expect(batch.status == 1, "\(batch.stderr)")
            let lines = try Self.results(batch.stdout)
            #expect(lines[0]?["status"] == "succeeded")
            #expect(lines[1]?["status"] == "invalid_input")
            #expect(lines[1]?["error"] == "line 2: the item is over the 64 MiB limit")
            #expect(lines[2]?["output"] == "L3")
            #expect(server.requestCount == 2)
            #expect(batch.stderr.contains("2 succeeded, 0 failed, 1 invalid input"), "\(batch.stderr)")
        }
    }

    @Test func moreItemsThanTheLimitRunNone() async throws {
        let input = try items(6)
        try await withServer { server in
            // The limit (10,000,000) lowered for the test.
            let over = try await runPipe(
                ["batch", spec, "--input", input], environment: environment(server).merging(["PIPE_BATCH_MAX_ITEMS": "5"]) { $1 })
            #expect(over.status == 2, "\(over.stderr)")
            #expect(over.stderr.contains("it has more than 5 items, the most one batch takes; no item was run"), "\(over.stderr)")
            #expect(over.stdout.isEmpty)
            #expect(server.requestCount == 0)

            let at = try await runPipe(
                ["batch", spec, "--input", input, "--quiet"], environment: environment(server).merging(["PIPE_BATCH_MAX_ITEMS": "6"]) { $1 })
            #expect(at.status == 0, "\(at.stderr)")
            #expect(try Self.results(at.stdout).count == 6)
        }
    }
}
