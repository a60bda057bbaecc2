import Foundation
import PipeKit

/// `pipe-bench store`: how long a run waits for the run store (to record its start, and at its
/// finish for its queued records and its end), and how many records a second one store file
/// takes. Two of these at once on one
/// file is how the tests check that concurrent `pipe` processes share a store.
enum StoreBenchmark {
    static let command = BenchCommand(
        name: "store",
        summary: "run store writes: --runs N --stages N --concurrency N [--store PATH]",
        usage: """
            usage: pipe-bench store [--runs N] [--stages N] [--concurrency N] [--store PATH]

            Runs a pipeline of --stages mock stages (default 5) --runs times (default 200),
            --concurrency at a time (default 4), recording each run, call and stage through the
            journal `pipe run` uses into --store (default: a new file in a temporary folder,
            removed afterwards).
            Prints records per second and the latency of one record; exits 1 if a write failed.
            """,
        valued: ["--runs", "--stages", "--concurrency", "--store"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let runs = try options.number("--runs", default: 200)
        let stages = try options.number("--stages", default: 5)
        let concurrency = try options.number("--concurrency", default: 4)
        let path = options.text("--store")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-bench-store-\(getpid())")
        defer { if path == nil { try? FileManager.default.removeItem(at: folder) } }
        let store: RunStore
        do {
            store = try RunStore(path: path ?? folder.appendingPathComponent("pipe.db").path)
        } catch {
            print("pipe-bench store: \(error)")
            return 1
        }

        let clock = ContinuousClock()
        let start = clock.now
        var latencies: [Duration] = []
        var failures: [String] = []
        let (stagesPerRun, first) = (stages, min(concurrency, runs))
        await withTaskGroup(of: (latencies: [Duration], failure: String?).self) { group in
            for number in 0..<first {
                group.addTask { await record(run: number, stages: stagesPerRun, in: store) }
            }
            var launched = first
            while let result = await group.next() {
                latencies += result.latencies
                if let failure = result.failure { failures.append(failure) }
                if launched < runs {
                    let number = launched
                    group.addTask { await record(run: number, stages: stagesPerRun, in: store) }
                    launched += 1
                }
            }
        }
        let wall = clock.now - start
        let percentiles = Percentiles(latencies)
        func percentile(_ p: Double) -> String { percentiles.text(p, decimals: 2) }
        let records = runs * (2 * stages + 2)
        print("store: \(runs) runs of \(stages) mock stages, \(concurrency) at a time, \(store.path)")
        print(String(format: "  wall %.3f s, %.0f records/s (runs started and finished, calls, stages)",
            wall.seconds, Double(records) / wall.seconds))
        print("  a run's start, and its finish (records flushed, end written): p50 \(percentile(0.5)), p90 \(percentile(0.9)), p99 \(percentile(0.99)), max \(percentile(1))")
        for failure in failures.prefix(5) { print("  failed: \(failure)") }
        return failures.isEmpty ? 0 : 1
    }

    /// One run of a pipeline of `stages` mock stages, recorded as `pipe run` records it (through
    /// `RunLifecycle`): started, each call and stage queued as it ends, finished. Returns how
    /// long its start and its finish (every record flushed, the end written) took.
    private static func record(run number: Int, stages: Int, in store: RunStore) async
        -> (latencies: [Duration], failure: String?)
    {
        let spec = "version: 1\nname: bench\nmodels: { m: { provider: mock } }\ndefaults: { model: m }\nstages:\n"
            + (0..<stages).map { "  s\($0): { prompt: \"Stage \($0) of run {{ input }}: \(String(repeating: "text ", count: 200))\" }\n" }
            .joined()
        guard let pipeline = Compiler.compile(SourceFile(path: "bench.yaml", text: spec), directory: "/tmp").pipeline else {
            return ([], "the benchmark's spec does not compile")
        }
        let factory = ProviderFactory(environment: [:], forceMock: true)
        let runner: PipelineRunner
        do {
            runner = try PipelineRunner(pipeline: pipeline, options: .init()) {
                model throws(ProviderError) in try factory.provider(for: model)
            }
        } catch {
            return ([], "\(error)")
        }
        let lifecycle = RunLifecycle(store: store)
        let input = JSONValue.number(JSONNumber(number))
        let clock = ContinuousClock()
        let start = clock.now
        let run: RunLifecycle.Run
        do {
            run = try await lifecycle.start(
                specPath: "/bench/bench.yaml", pipeline: pipeline, input: input, traceID: String(repeating: "0", count: 32))
        } catch {
            return ([], error.description)
        }
        let started = clock.now
        let result = await runner.with(journal: run.journal).run(input: input)
        let finishing = clock.now
        let gaps = await lifecycle.finish(run, result)
        let latencies = [started - start, clock.now - finishing]
        return (latencies, (gaps.records ?? gaps.end)?.description)
    }
}
