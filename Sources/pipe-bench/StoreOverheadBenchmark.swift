import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench store-overhead`: what recording costs a run through the `pipe` command. A chain
/// of 5 stages (each reads the one before: 5 calls on the critical path) runs against the fake
/// server answering every call 100 ms after it arrived, punctually; `pipe run` (built beside
/// `pipe-bench`, or `--pipe PATH`) runs in pairs, one run with a run store and one with
/// `--no-store` right after each other, each first in turn. The store's cost is the median of
/// the pairs' differences, with its spread: two runs a second apart share the machine's load,
/// which the medians of the two sets of runs, taken apart, do not (their difference, printed
/// too, moved by ~3 ms between benchmarks of 30 runs on a quiet machine). The fake server's log
/// splits each difference into the run's phases: before its first request, between a reply
/// and the next request, after its last reply.
enum StoreOverheadBenchmark {
    static let command = BenchCommand(
        name: "store-overhead",
        summary: "`pipe run` of a 5-stage chain, fake server at 100 ms a call, with the run store vs --no-store, in pairs [--runs N] [--latency-ms N] [--pipe PATH]",
        usage: "usage: pipe-bench store-overhead [--runs N] [--latency-ms N] [--pipe PATH]", valued: ["--runs", "--latency-ms", "--pipe"],
        run: run)

    static let stages = 5

    /// s0 -> s1 -> ... -> s4, each stage reading the one before.
    static var spec: String {
        "version: 1\nname: chain\nmodels: { m: { provider: anthropic, model: claude-bench } }\n"
            + "defaults: { model: m, max_tokens: 200 }\nstages:\n"
            + (0..<stages).map { index in
                "  s\(index): { prompt: \"Step \(index): \(index == 0 ? "{{ input }}" : "{{ s\(index - 1) }}")\" }\n"
            }.joined()
            + "output: \"{{ s\(stages - 1) }}\"\n"
    }

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let runs = try options.number("--runs", default: 40)
        let latencyMS = try options.number("--latency-ms", default: 100)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-bench-store-overhead-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let specPath = folder.appendingPathComponent("chain.yaml").path
        let inputPath = folder.appendingPathComponent("input.txt").path
        let storePath = folder.appendingPathComponent("pipe.db").path
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
            try "The history of tide prediction".write(toFile: inputPath, atomically: true, encoding: .utf8)
        } catch {
            print("pipe-bench store-overhead: \(error)")
            return 1
        }
        let latency = Duration.milliseconds(latencyMS)
        let server = FakeLLMServer { _ in FakeReply.text("a step further").delayed(by: latency).punctual() }
        do {
            try server.start()
        } catch {
            print("pipe-bench store-overhead: cannot start the fake server: \(error)")
            return 1
        }
        defer { server.stop() }
        let pipe = options.text("--pipe").map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pipe")
        let environment = [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "bench",
        ]
        let base = ["run", "--quiet", specPath, "--input", inputPath]
        var pairs: [Pair] = []
        for index in 0..<(runs + 2) {
            var pair = Pair()
            // The two runs of a pair one right after the other, each first in turn.
            for recorded in index % 2 == 0 ? [true, false] : [false, true] {
                let arguments = base + (recorded ? ["--store", storePath] : ["--no-store"])
                server.resetLog()
                guard let (start, end) = await span(pipe, arguments, environment) else {
                    print("pipe-bench store-overhead: `pipe \(arguments.joined(separator: " "))` failed")
                    return 1
                }
                let run = Run(wall: (end - start).seconds * 1000, phases: RunnerBenchmark.Phases(log: server.log, start: start, end: end))
                if recorded { pair.stored = run } else { pair.unstored = run }
            }
            if index >= 2 { pairs.append(pair) }  // 2 warm-up pairs: the store made, the binary in the page cache
        }
        print(report(pairs, critical: stages * latencyMS))
        return 0
    }

    /// One `pipe run`: its wall time in ms and its phases (from the fake server's log).
    struct Run {
        var wall = 0.0
        var phases = RunnerBenchmark.Phases(log: [], start: .now, end: .now)
    }

    /// A run with the store and one with `--no-store`, one right after the other.
    struct Pair {
        var stored = Run()
        var unstored = Run()
    }

    static func report(_ pairs: [Pair], critical: Int) -> String {
        let stored = pairs.map(\.stored.wall), unstored = pairs.map(\.unstored.wall)
        func figure(_ values: [Double]) -> String {
            String(format: "median %.1f ms (min %.1f, max %.1f)", PairedDifferences.median(values), values.min()!, values.max()!)
        }
        let cost = PairedDifferences(pairs.map { $0.stored.wall - $0.unstored.wall })
        func phase(_ value: (RunnerBenchmark.Phases) -> Double) -> String {
            String(format: "%.2f ms", PairedDifferences.median(pairs.map { (value($0.stored.phases) - value($0.unstored.phases)) * 1000 }))
        }
        return [
            "store-overhead: `pipe run` of a \(stages)-stage chain, \(pairs.count) pairs (a run with the store and one with "
                + "--no-store, one after the other, each first in turn), critical path \(critical) ms",
            "  with the run store: \(figure(stored))",
            "  --no-store:         \(figure(unstored))",
            String(format: "  the store's cost: %.1f ms (median of the %d pairs' differences; middle half %.1f to %.1f ms; "
                + "95%% interval of the median %.1f to %.1f ms)", cost.median, pairs.count, cost.quartiles.lower, cost.quartiles.upper,
                cost.interval.lower, cost.interval.upper),
            "    by phase (median of the pairs' differences): before the first request \(phase(\.beforeFirst)), "
                + "the \(stages - 1) replies to the next requests \(phase(\.handOffs)), the last reply to exit \(phase(\.afterLast))",
            String(format: "  (the difference of the medians, as this benchmark printed it before: %.1f ms)",
                PairedDifferences.median(stored) - PairedDifferences.median(unstored)),
        ].joined(separator: "\n")
    }

    /// When one `pipe` process started and ended; nil when it failed.
    static func span(_ executable: URL, _ arguments: [String], _ environment: [String: String]) async
        -> (ContinuousClock.Instant, ContinuousClock.Instant)?
    {
        await onOwnThread {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let start = ContinuousClock.now
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
            let end = ContinuousClock.now
            return process.terminationStatus == 0 ? (start, end) : nil
        }
    }
}

/// Differences of paired measures (`store-overhead`): their median, the middle half, and a
/// distribution-free 95 % interval of the median (from the order statistics: the ranks
/// between which the median lies with 95 % probability, by the binomial distribution).
struct PairedDifferences {
    let sorted: [Double]

    init(_ differences: [Double]) {
        sorted = differences.sorted()
    }

    var median: Double { Self.median(sorted) }

    /// The first and third quartiles.
    var quartiles: (lower: Double, upper: Double) {
        (Self.quantile(sorted, 0.25), Self.quantile(sorted, 0.75))
    }

    /// The sorted values at ranks k and n + 1 − k (1-based), for the largest k with
    /// P(Binomial(n, ½) ≤ k − 1) ≤ 2.5 %: for 30 values, the 10th and the 21st. The smallest
    /// and the largest when there are too few values for such a k.
    var interval: (lower: Double, upper: Double) {
        let n = sorted.count
        guard n > 0 else { return (0, 0) }
        var k = 0
        var below = 0.0  // P(X ≤ k − 1)
        var term = pow(0.5, Double(n))  // P(X = k)
        while k < n / 2, below + term <= 0.025 {
            below += term
            term *= Double(n - k) / Double(k + 1)
            k += 1
        }
        return (sorted[max(0, k - 1)], sorted[min(n - 1, n - k)])
    }

    /// The middle value, or the mean of the two middle ones; 0 for none.
    static func median(_ values: [Double]) -> Double {
        quantile(values.sorted(), 0.5)
    }

    /// The quantile `p` of sorted values, linearly interpolated between ranks.
    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = p * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }
}
