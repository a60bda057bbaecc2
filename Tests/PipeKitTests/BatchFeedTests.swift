import FakeLLM
import Foundation
import GRDB
import Testing
@testable import PipeKit

/// `pipe batch`'s input read and enqueued beside the items already running (a regular file),
/// or whole before any item runs (stdin, a pipe, a FIFO), run as a user runs it against the
/// fake server (the spec, replies and store of `BatchCommandTests`).
extension BatchCommandTests {
    /// How many items the store holds, read by the test's own connection.
    func enqueuedItems() throws -> Int {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: store, configuration: configuration).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_items") ?? 0
        }
    }

    @Test func itemsOfALargeFileStartBeforeItsLastLineIsEnqueuedAndCtrlCStopsTheReading() async throws {
        let count = 20_000
        let input = try items(count)
        // What the store holds when the server gets its first request: counted there, before
        // it is answered.
        let atFirstRequest = Locked<Int?>(nil)
        let handler: FakeLLMServer.Handler = { [self] request in
            atFirstRequest.withLock { seen in
                if seen == nil { seen = (try? enqueuedItems()) ?? -1 }
            }
            return Self.reply(request)
        }
        try await withServer(handler) { server in
            let output = folder.url.appendingPathComponent("results.jsonl").path
            let live = try LivePipe(
                ["batch", spec, "--input", input, "--concurrency", "4", "--output", output], environment: environment(server))
            let start = ContinuousClock.now
            while server.requestCount < 1, ContinuousClock.now - start < .seconds(60) {
                try await Task.sleep(for: .milliseconds(2))
            }
            live.send(SIGINT)
            let stopped = await live.finish()
            #expect(stopped.status == 130, "\(stopped.stderr)")
            #expect(stopped.stderr.contains("pipe: continue it with: pipe batch --resume b"), "\(stopped.stderr)")
            let first = try #require(atFirstRequest.withLock { $0 })
            #expect(first > 0 && first < count, "the first request came with \(first) of \(count) items enqueued")

            // Ctrl-C stopped the reading too (between chunks): what was enqueued is pending or
            // ended, none left running.
            let database = try DatabaseQueue(path: store)
            let (enqueued, running, sealed) = try await database.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_items") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batch_items WHERE status = 'running'") ?? 0,
                    try Bool.fetchOne(db, sql: "SELECT sealed FROM batches") ?? false
                )
            }
            #expect(running == 0)
            #expect(enqueued >= first && enqueued <= count)
            #expect(sealed == (enqueued == count))
            let status = try await runPipe(["batch", "status", "last"], environment: environment(server))
            #expect(status.stdout.contains("items    \(enqueued)"), "\(status.stdout)")

            // Resumable over what was enqueued: it says so, and runs those items (stopped here by
            // the cost limit after a few: every output token costs $1).
            let resumed = try await runPipe(
                ["batch", "--resume", "last", "--max-cost-usd", "5", "--quiet"], environment: environment(server))
            #expect(resumed.status == 4, "\(resumed.stderr)")
            #expect(
                resumed.stderr.contains("its input was not all read when it stopped: it has the \(enqueued) items enqueued by then")
                    == (enqueued < count), "\(resumed.stderr)")
            let after = try await runPipe(["batch", "status", "last"], environment: environment(server))
            #expect(after.stdout.contains("items    \(enqueued)"), "\(after.stdout)")
        }
    }

    @Test func aFIFOIsReadToItsEndBeforeAnyItemRuns() async throws {
        let fifo = folder.url.appendingPathComponent("items.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Open for reading and writing: neither this open nor pipe's waits for the other.
        let writer = open(fifo, O_RDWR | O_CLOEXEC)
        #expect(writer >= 0)
        func send(_ range: Range<Int>) {
            let text = range.map { #"{"id": "\#($0 + 1)", "text": "t"}"# + "\n" }.joined()
            let written = text.utf8CString.withUnsafeBufferPointer { Glibc.write(writer, $0.baseAddress, $0.count - 1) }
            #expect(written == text.utf8.count)
        }
        try await withServer { server in
            let output = folder.url.appendingPathComponent("results.jsonl").path
            let live = try LivePipe(
                ["batch", spec, "--input", fifo, "--concurrency", "32", "--output", output, "--quiet"], environment: environment(server))
            // More than a chunk: a regular file this long would have its items started by now.
            send(0..<1500)
            let start = ContinuousClock.now
            while (try? enqueuedItems()) ?? 0 < 1000, ContinuousClock.now - start < .seconds(60) {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try enqueuedItems() >= 1000)
            // 1,000 items are queued, the input not ended: no item has started.
            #expect(server.requestCount == 0)
            send(1500..<1501)
            Glibc.close(writer)
            let done = await live.finish()
            #expect(done.status == 1, "\(done.stderr)")  // the items whose id is a multiple of 23
            let lines = try Self.results(try String(contentsOfFile: output, encoding: .utf8))
            #expect(lines.keys.sorted() == Array(0..<1501))
            #expect(server.requestCount == 1501)
        }
    }

    @Test func moreItemsThanTheLimitOnStdinRunNone() async throws {
        let text = (0..<6).map { #"{"id": "\#($0 + 1)", "text": "t"}"# }.joined(separator: "\n") + "\n"
        try await withServer { server in
            let over = try await runPipe(
                ["batch", spec, "--input", "-"], stdin: text,
                environment: environment(server).merging(["PIPE_BATCH_MAX_ITEMS": "5"]) { $1 })
            #expect(over.status == 2, "\(over.stderr)")
            #expect(over.stderr.contains("pipe: cannot read the input on stdin: it has more than 5 items, the most one batch takes; no item was run"), "\(over.stderr)")
            #expect(server.requestCount == 0)
        }
    }

    @Test func aLargeCSVFileWithoutAHeaderRunsNoItem() async throws {
        // Blank lines only: no header row; more lines than a chunk, so it would be read beside
        // its items if it had one.
        let input = try write(String(repeating: "\n", count: 1500), to: "empty.csv")
        try await withServer { server in
            let batch = try await runPipe(["batch", spec, "--input", input], environment: environment(server))
            #expect(batch.status == 2, "\(batch.stderr)")
            #expect(batch.stderr.contains("a CSV input needs a header row naming its columns; no item was run"), "\(batch.stderr)")
            #expect(server.requestCount == 0)
        }
    }
}
