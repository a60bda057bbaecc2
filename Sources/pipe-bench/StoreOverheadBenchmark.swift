import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench store-overhead`: what recording costs a run through the `pipe` command. A chain
/// of 5 stages (each reads the one before: 5 calls on the critical path) runs against the fake
/// server answering every call 100 ms after it arrived, punctually; `pipe run` (built beside
/// `pipe-bench`) is run alternately with a run store and with `--no-store`, so that drift of
/// the machine's speed hits both alike. The difference of the medians is the store's cost.
enum StoreOverheadBenchmark {
    static let command = BenchCommand(
        name: "store-overhead",
        summary: "`pipe run` of a 5-stage chain, fake server at 100 ms a call, with the run store vs --no-store [--runs N] [--latency-ms N]",
        usage: "usage: pipe-bench store-overhead [--runs N] [--latency-ms N]", valued: ["--runs", "--latency-ms"], run: run)

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
        let runs = try options.number("--runs", default: 20)
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
        let pipe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pipe")
        let environment = [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "bench",
        ]
        let base = ["run", "--quiet", specPath, "--input", inputPath]
        var stored: [Double] = [], unstored: [Double] = []
        for index in 0..<(runs + 2) {
            // Alternating, and each first in turn.
            for recorded in index % 2 == 0 ? [true, false] : [false, true] {
                let arguments = base + (recorded ? ["--store", storePath] : ["--no-store"])
                guard let wall = await time(pipe, arguments, environment) else {
                    print("pipe-bench store-overhead: `pipe \(arguments.joined(separator: " "))` failed")
                    return 1
                }
                if index >= 2 {  // 2 warm-up rounds
                    if recorded { stored.append(wall) } else { unstored.append(wall) }
                }
            }
        }
        let critical = Double(stages * latencyMS)
        func figure(_ values: [Double]) -> String {
            String(format: "median %.1f ms (min %.1f, max %.1f)", RunnerBenchmark.median(values), values.min()!, values.max()!)
        }
        print("store-overhead: `pipe run` of a \(stages)-stage chain, \(runs) runs each, critical path \(Int(critical)) ms")
        print("  with the run store: \(figure(stored))")
        print("  --no-store:         \(figure(unstored))")
        print(String(format: "  the store's cost: %.1f ms (difference of the medians)",
            RunnerBenchmark.median(stored) - RunnerBenchmark.median(unstored)))
        return 0
    }

    /// The wall time of one `pipe` process in ms, nil when it failed.
    static func time(_ executable: URL, _ arguments: [String], _ environment: [String: String]) async -> Double? {
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
            let wall = ContinuousClock.now - start
            return process.terminationStatus == 0 ? wall.seconds * 1000 : nil
        }
    }
}
