import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench runner`: the runner's own overhead, in-process (no process start, the spec
/// compiled once): research-report against the fake server answering every call 100 ms
/// after it arrived (punctually: not up to 0.15 ms later, as a sleeping thread wakes),
/// through the real providers and HTTP client. Wall time minus the critical path (4
/// sequential calls = 400 ms) is what the runner adds.
enum RunnerBenchmark {
    static let command = BenchCommand(
        name: "runner",
        summary: "the runner's overhead in-process: research-report, fake server at 100 ms a call [--runs N] [--delta-size CHARS] [--latency-ms N]",
        usage: "usage: pipe-bench runner [--runs N] [--delta-size CHARS] [--latency-ms N]",
        valued: ["--runs", "--delta-size", "--latency-ms"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let runs = try options.number("--runs", default: 20)
        let deltaSize = try options.number("--delta-size", default: 8)
        let latencyMS = try options.number("--latency-ms", default: 100, in: 0...Int.max)
        let path = "pipelines/research-report.yaml"
        guard let data = FileManager.default.contents(atPath: path),
            let pipeline = Compiler.compile(SourceFile(path: path, bytes: [UInt8](data)), directory: "pipelines").pipeline,
            let replies = SpecReplies(path: path)
        else {
            FileHandle.standardError.write(Data("run from the repository's root: \(path) must compile\n".utf8))
            return 2
        }
        let server = FakeLLMServer { request in
            FakeReply.text(replies.reply(to: request.prompt) ?? "reply").delayed(by: .milliseconds(latencyMS)).punctual().streamed(every: .zero, deltaSize: deltaSize)
        }
        do {
            try server.start()
        } catch {
            return 1
        }
        defer { server.stop() }
        let factory = ProviderFactory(environment: [
            "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "bench", "OPENAI_API_KEY": "bench",
        ])
        let options = PipelineRunner.Options(executor: factory.client.executor)  // as `pipe run` does
        guard let runner = try? PipelineRunner(pipeline: pipeline, options: options, resolveProvider: { model throws(ProviderError) in
            try factory.provider(for: model)
        }) else { return 1 }
        let input = JSONValue.string("The history of tide prediction")
        var overheads: [Double] = []
        // How much of each call is the server's own work (from its reading the request to
        // its writing the last byte, less the latency it waits on purpose), in ms.
        var serverWork: [Double] = []
        var phases: [Phases] = []
        for index in 0..<(runs + 2) {
            server.resetLog()
            let start = ContinuousClock.now
            let result = await runner.run(input: input)
            let end = ContinuousClock.now
            guard case .succeeded = result.outcome else {
                FileHandle.standardError.write(Data("run failed: \(result.outcome)\n".utf8))
                return 1
            }
            if index >= 2 {  // 2 warm-up runs
                overheads.append((result.wall.seconds - 4 * Double(latencyMS) / 1000) * 1000)
                let log = server.log  // this run's: the log is reset before each run
                serverWork += log.compactMap { entry in
                    entry.completion.map { (($0 - entry.arrival).seconds - Double(latencyMS) / 1000) * 1000 }
                }
                phases.append(Phases(log: log, start: start, end: end))
            }
        }
        let overhead = median(overheads), serverMedian = median(serverWork)
        print("runner overhead over the critical path (4 × \(latencyMS) ms), \(runs) runs, \(deltaSize) characters an event: median \(String(format: "%.1f", overhead)) ms, "
            + "min \(String(format: "%.1f", overheads.min()!)) ms, max \(String(format: "%.1f", overheads.max()!)) ms")
        print("  the fake server's own work per call: median \(String(format: "%.2f", serverMedian)) ms; "
            + "the runner's own, less the server's on the 4-call critical path: \(String(format: "%.1f", overhead - 4 * serverMedian)) ms")
        func medianMS(_ values: [Double]) -> String { String(format: "%.2f", median(values) * 1000) }
        print("  where the runner's time goes (medians): before the first request \(medianMS(phases.map(\.beforeFirst))) ms, "
            + "from a reply's end to the next request \(medianMS(phases.map(\.handOff))) ms (each of 3), "
            + "after the last reply \(medianMS(phases.map(\.afterLast))) ms")
        return 0
    }

    /// The middle value (the upper one of an even count); 0 for none.
    static func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }

    /// The runner's time in one run, from the fake server's log: before its first request,
    /// between a reply's last byte and the request that follows it on the critical path,
    /// and after the last reply.
    struct Phases {
        var beforeFirst = 0.0
        var handOff = 0.0
        /// All the gaps between a reply and the next request, added up.
        var handOffs = 0.0
        var afterLast = 0.0

        init(log: [FakeLogEntry], start: ContinuousClock.Instant, end: ContinuousClock.Instant) {
            let entries = log.sorted { $0.arrival < $1.arrival }
            guard let first = entries.first else { return }
            beforeFirst = (first.arrival - start).seconds
            var gaps: [Double] = []
            for (index, entry) in entries.enumerated().dropFirst() {
                // The reply this request waited for: the last one to end before it arrived.
                let previous = entries[..<index].compactMap(\.completion).filter { $0 <= entry.arrival }.max()
                if let previous { gaps.append((entry.arrival - previous).seconds) }
            }
            handOff = RunnerBenchmark.median(gaps)
            handOffs = gaps.reduce(0, +)
            if let last = entries.compactMap(\.completion).max() { afterLast = (end - last).seconds }
        }
    }
}
