import Foundation
import PipeKit

/// `pipe-bench queue`: the PostgreSQL work queue's own cost, with no model call in between:
/// how many items a second `--workers` workers claim and finish, each on its own connection.
enum QueueBenchmark {
    static let command = BenchCommand(
        name: "queue",
        summary: "PostgreSQL work queue: --url URL --items N --workers N --claim N",
        usage: """
            usage: pipe-bench queue --url postgres://USER@HOST:PORT/DB [--items N] [--workers N] [--claim N]

            Creates pipe's tables in the database if needed, enqueues a batch of --items items
            (default 10000), then --workers workers (default 4, a connection each) claim up to
            --claim items at a time (default 1) and finish them side by side as `pipe worker` does,
            until none is left. The batch is deleted afterwards. Prints items claimed and finished per
            second, the latency of a claim and of finishing its items, and the process's peak memory.
            Exits 1 if an item was not finished exactly once.
            """,
        valued: ["--url", "--items", "--workers", "--claim"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let url = try options.required("--url")
        let items = try options.number("--items", default: 10_000)
        let workers = try options.number("--workers", default: 4)
        let claimSize = try options.number("--claim", default: 1)
        do {
            return try await measure(url: url, items: items, workers: workers, claimSize: claimSize)
        } catch {
            print("pipe-bench queue: \(error)")
            return 1
        }
    }

    private static func measure(url: String, items: Int, workers: Int, claimSize: Int) async throws -> Int32 {
        let queue = PostgresWorkQueue(client: try await PostgresClient.open(url: url, connections: workers))
        let batch = "bench-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        try await queue.create(NewBatch(
            id: batch, specPath: "bench.yaml", specText: "version: 1", schemaFiles: [:], specHash: "-", pipelineName: "bench"))
        try await queue.enqueue(batch: batch, items: (0..<items).map {
            QueuedItem(index: $0, line: $0 + 1, input: .success(["n": .number(JSONNumber($0))]))
        })
        try await queue.sealBatch(batch)

        let clock = ContinuousClock()
        let start = clock.now
        let timings = try await withThrowingTaskGroup(of: Timings.self) { group in
            for number in 0..<workers {
                group.addTask { try await work(queue, batch: batch, worker: "bench-\(number)", claimSize: claimSize) }
            }
            return try await group.reduce(into: Timings()) { $0.add($1) }
        }
        let wall = clock.now - start
        let counts = try await queue.counts(batch: batch)
        try await queue.deleteBatch(batch)

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let claims = Percentiles(timings.claims), finishes = Percentiles(timings.finishes)
        print("queue: \(items) items, \(workers) workers claiming \(claimSize) at a time, \(queue.client.location)")
        print(String(format: "  wall %.3f s, %.0f items claimed and finished per second", wall.seconds, Double(items) / wall.seconds))
        print("  claim p50 \(claims.text(0.5, decimals: 2)), p99 \(claims.text(0.99, decimals: 2));"
            + " finishing a claim's items p50 \(finishes.text(0.5, decimals: 2)), p99 \(finishes.text(0.99, decimals: 2))")
        print("  peak memory \(usage.ru_maxrss / 1024) MB")
        guard counts.succeeded == items, timings.finished == items else {
            print("  FAILED: \(timings.finished) finishes accepted, counts \(counts)")
            return 1
        }
        return 0
    }

    private struct Timings: Sendable {
        var claims: [Duration] = []
        var finishes: [Duration] = []
        var finished = 0

        mutating func add(_ other: Timings) {
            claims += other.claims
            finishes += other.finishes
            finished += other.finished
        }
    }

    /// One worker: claims until the queue is empty, finishing each item it got.
    private static func work(_ queue: PostgresWorkQueue, batch: String, worker: String, claimSize: Int)
        async throws(StoreError) -> Timings
    {
        var timings = Timings()
        let clock = ContinuousClock()
        while true {
            var start = clock.now
            let claims = try await queue.claim(batch: batch, worker: worker, limit: claimSize, lease: .seconds(60))
            timings.claims.append(clock.now - start)
            if claims.isEmpty { return timings }
            start = clock.now
            // Side by side, as `pipe worker`'s items end: their finishes share commits.
            let ended = await withTaskGroup(of: Result<Bool, StoreError>.self) { group in
                for claim in claims {
                    group.addTask { () async -> Result<Bool, StoreError> in
                        let result = ItemResult(index: claim.index, status: .succeeded, output: claim.input, runID: "-", usage: .zero)
                        do throws(StoreError) { return .success(try await queue.finish(claim, result: result)) } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            timings.finishes.append(clock.now - start)
            for finished in ended where try finished.get() { timings.finished += 1 }
        }
    }
}
