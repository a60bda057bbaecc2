import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe batch`'s progress: the live line's counts, rates, ETA, rate-limit waits and width,
/// fed ordered events at given instants; and the live line on a real pseudo-terminal.
@Suite struct BatchProgressTests {
    static let model = ResolvedModel(name: "fast", provider: .anthropic, model: "claude-test", baseURL: nil, apiKeyEnv: nil, price: nil)
    static let unit = RunUnitID(stage: "classify")

    func claim(_ index: Int) -> Claim {
        Claim(batch: "b1", index: index, line: index + 1, input: [:], worker: "w", previousRunID: nil, claims: 1)
    }

    /// 10 items: 3 started, 4 calls ended (19 tokens, $0.0021 each), 1 succeeded, 1 failed.
    func progress(mode: ProgressReporter.Mode = .live, width: Int? = nil, start: ContinuousClock.Instant) -> (BatchProgress, Collector<String>) {
        let written = Collector<String>()
        let progress = BatchProgress(counts: BatchCounts(pending: 10), mode: mode, width: width, start: start) { written.append($0) }
        for index in 0..<3 { progress.started(claim(index)) }
        for index in 0..<4 { progress.record(.callFinished(StoreSamples.call()), item: index % 3, at: start) }
        progress.ended(ItemResult(index: 0, status: .succeeded), line: 1)
        progress.ended(ItemResult(index: 1, status: .failed, stage: "classify", error: "boom"), line: 2)
        return (progress, written)
    }

    @Test func theLiveLineCountsItemsCallsTokensCostAndETA() {
        let start = ContinuousClock.now
        let (progress, written) = progress(start: start)
        // 2 items ended in 2 s: 8 left (7 pending, 1 running) take 8 s more; 4 calls in 2 s.
        #expect(progress.line(at: start + .seconds(2)) == "1 done, 1 failed, 1 running, 7 pending · 2 calls/s · 76 tokens · $0.0084, ETA 8.0s")
        #expect(progress.line(at: start + .seconds(4)) == "1 done, 1 failed, 1 running, 7 pending · 1 calls/s · 76 tokens · $0.0084, ETA 16.0s")
        // Live: no line per item.
        #expect(written.all.isEmpty)
    }

    @Test func theLiveLineIsCutToTheTerminalsWidth() {
        let start = ContinuousClock.now
        let line = progress(width: 40, start: start).0.line(at: start + .seconds(2))
        #expect(line == "1 done, 1 failed, 1 running, 7 pending…")
        #expect(line.count == 39)
        // Unknown width: whole.
        #expect(progress(width: nil, start: start).0.line(at: start + .seconds(2)).hasSuffix("ETA 8.0s"))
    }

    @Test func callsWaitingForARateLimitShowOnTheLineUntilTheyGo() {
        let start = ContinuousClock.now
        let (progress, _) = progress(start: start)
        let at = start + .seconds(2)
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: .seconds(12), after429: true)), item: 2, at: at)
        progress.started(claim(3))
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: nil, after429: true)), item: 3, at: at)
        #expect(progress.line(at: start + .seconds(4)).hasSuffix(" · waiting for rate limit: fast (2 calls, 429, 10.0s)"))
        // One goes; the other's item ends (interrupted while waiting, it never goes).
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .granted(waited: .seconds(12))), item: 2, at: start + .seconds(14))
        #expect(progress.line(at: start + .seconds(14)).hasSuffix(" · waiting for rate limit: fast (429)"))
        progress.ended(ItemResult(index: 3, status: .failed, error: "interrupted"), line: 4)
        #expect(!progress.line(at: start + .seconds(14)).contains("rate limit"))
        // Paced, not paused: no 429.
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: .milliseconds(1500), after429: false)), item: 2, at: at)
        #expect(progress.line(at: at).hasSuffix(" · waiting for rate limit: fast (1.5s)"))
    }

    @Test func plainProgressSaysOnceWhenA429PausesAModel() {
        let start = ContinuousClock.now
        let (progress, written) = progress(mode: .plain, start: start)
        #expect(written.all == ["item 0 (line 1): succeeded\n", "item 1 (line 2): failed at stage `classify`: boom\n"])
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: .seconds(1), after429: false)), item: 2, at: start)
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: .seconds(12), after429: true)), item: 2, at: start)
        progress.record(.rateLimit(unit: Self.unit, model: Self.model, .waiting(expected: nil, after429: true)), item: 0, at: start)
        #expect(written.all.dropFirst(2) == ["pipe: waiting for rate limit: fast (429, 12.0s)\n"])
    }

    /// `pipe batch` with stderr on a pseudo-terminal (`script` gives it one): the live line is
    /// redrawn in place, every frame counting all the items, and no plain line is printed.
    @Test func onATerminalTheLineIsRedrawnInPlace() async throws {
        let folder = try TemporaryFolder("pipe-batch-tty")
        let spec = folder.url.appendingPathComponent("classify.yaml").path
        try BatchCommandTests.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        let input = folder.url.appendingPathComponent("items.jsonl").path
        let count = 12
        try (0..<count).map { #"{"id": "\#($0 + 1)", "text": "t"}"# }.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let results = folder.url.appendingPathComponent("results.jsonl").path
        let server = FakeLLMServer { BatchCommandTests.reply($0).delayed(by: .milliseconds(100)) }
        try server.start()
        defer { server.stop() }
        let command = [Paths.pipeExecutable.path, "batch", spec, "--input", input, "--concurrency", "2", "--output", results]
            .map { "'\($0)'" }.joined(separator: " ")
        let transcript = try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qefc", command, "/dev/null"]
            process.environment = [
                "PATH": "/usr/bin:/bin", "TERM": "xterm", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k",
                "PIPE_STORE": folder.url.appendingPathComponent("runs.db").path,
            ]
            let out = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = out
            process.standardError = out
            try process.runUnblocked()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(transcript.0 == 0, "\(transcript.1)")
        let frames = transcript.1.components(separatedBy: "\r\u{1B}[2K").dropFirst()
        #expect(!frames.isEmpty, "\(transcript.1)")
        let pattern = /^(\d+) done, (\d+) failed, (\d+) running, (\d+) pending · \d+ calls\/s · \d+ tokens · \$[0-9.]+/
        var drawn = 0
        for frame in frames where !frame.isEmpty && !frame.hasPrefix("pipe: ") {
            let match = try #require(frame.firstMatch(of: pattern), "\(frame)")
            let sum = [match.1, match.2, match.3, match.4].compactMap { Int($0) }.reduce(0, +)
            #expect(sum == count, "\(frame)")
            drawn += 1
        }
        #expect(drawn > 0)
        #expect(!transcript.1.contains("item 0 (line 1)"))
        #expect(transcript.1.contains("\(count) succeeded, 0 failed"), "\(transcript.1)")
        #expect(try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").count == count)
    }
}
