import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Calls waiting for their model's `rate_limit` are visible: in `pipe run`'s progress and
/// `--trace`, and in `pipe batch`'s progress.
@Suite struct RateLimitWaitTests {
    /// The 429 scenario of `RateLimitRunTests`: 6 items at 240 a minute, the second item call
    /// answered 429 with `Retry-After: 1`.
    func server() -> FakeLLMServer {
        let itemCalls = Locked(0)
        return FakeLLMServer { request in
            if request.prompt.contains("STAGE plan") { return RateLimitRunTests.plan(6) }
            let call = itemCalls.withLock { count in
                count += 1
                return count
            }
            return call == 2 ? .rateLimited(retryAfter: "1") : .text("done")
        }
    }

    @Test func aRunsWaitsForTheRateLimitAreTracedAndShown() async throws {
        let folder = try TemporaryFolder("pipe-rate-limit-wait")
        let spec = try RateLimitRunTests().spec(items: 6, limit: "{ requests_per_minute: 240 }", in: folder)
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let server = server()
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["run", spec, "--no-store", "--trace", trace], stdin: "", environment: RateLimitRunTests().environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        for line in lines {
            #expect(TraceAndProgressTests.schema.validate(line).isEmpty, "\(line.serialized())")
        }
        let waits = lines.filter { $0["event"] == "rate_limit_wait" }
        let paused = waits.filter { $0["after_429"] == true }
        // Every item call after the 429 waited for its pause; paced calls waited their turn.
        #expect(!paused.isEmpty, "\(waits.map { $0.serialized() })")
        #expect(waits.allSatisfy { $0["model"]?["name"] == "paced" && $0["stage"]?.stringValue?.hasPrefix("each[") == true })
        // Each call that waited then went: a rate_limit_granted after its first wait, for its stage.
        for stage in Set(waits.compactMap { $0["stage"]?.stringValue }) {
            let events = lines.filter { $0["stage"]?.stringValue == stage }.compactMap { $0["event"]?.stringValue }
            let wait = try #require(events.firstIndex(of: "rate_limit_wait"))
            let granted = try #require(events.firstIndex(of: "rate_limit_granted"), "\(stage): \(events)")
            #expect(wait < granted)
            let request = events.indices.filter { events[$0] == "request" }
            #expect(request.contains { $0 < wait }, "the wait is inside an attempt: \(events)")
        }
        let granted = lines.filter { $0["event"] == "rate_limit_granted" }
        #expect(granted.contains { ($0["waited_ms"]?.numberValue?.doubleValue ?? 0) >= 900 }, "the pause of 1 s")
        // Plain progress: a line for the calls the 429 paused.
        #expect(result.stderr.contains(": waiting for rate limit: paced (429"), "\(result.stderr)")
    }

    @Test func aBatchSaysWhenA429PausesAModel() async throws {
        let folder = try TemporaryFolder("pipe-batch-rate-limit")
        let spec = folder.url.appendingPathComponent("paced.yaml").path
        try """
            version: 1
            input: { schema: { type: string } }
            models:
              paced: { provider: anthropic, model: paced-test, rate_limit: { requests_per_minute: 240 } }
            defaults: { model: paced, max_tokens: 50, retries: 2, timeout: 30s }
            stages:
              answer: { prompt: "ITEM {{ input }}" }
            output: "{{ answer }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let input = folder.url.appendingPathComponent("items.txt").path
        try (1...4).map { "item \($0)" }.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let server = server()
        try server.start()
        defer { server.stop() }
        let batch = try await runPipe(
            ["batch", spec, "--input", input, "--format", "jsonl", "--concurrency", "4"],
            environment: RateLimitRunTests().environment(server).merging(["PIPE_STORE": folder.url.appendingPathComponent("runs.db").path]) { $1 })
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(try BatchCommandTests.results(batch.stdout).count == 4)
        // Said once, however many items the pause holds.
        let lines = batch.stderr.split(separator: "\n").filter { $0.hasPrefix("pipe: waiting for rate limit: paced (429") }
        #expect(lines.count == 1, "\(batch.stderr)")
    }
}
