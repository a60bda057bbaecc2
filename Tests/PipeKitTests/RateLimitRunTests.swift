import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `rate_limit` on a model, seen from the fake server: when the requests of a `pipe run`'s
/// `for_each` items arrive.
@Suite struct RateLimitRunTests {
    static let pacedModel = "paced-test"

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "sk-ant-test"]
    }

    /// A plan (on a model without a limit) that lists `items` numbers, then one call per item
    /// on the model with `limit`.
    func spec(items: Int, limit: String, in folder: borrowing TemporaryFolder) throws -> String {
        let url = folder.url.appendingPathComponent("paced.yaml")
        try """
            version: 1
            models:
              planner: { provider: anthropic, model: planner-test }
              paced: { provider: anthropic, model: \(Self.pacedModel), rate_limit: \(limit) }
            defaults: { model: paced, max_tokens: 50, retries: 2, timeout: 30s }
            stages:
              plan:
                model: planner
                prompt: "STAGE plan"
                output: { schema: { type: object, required: [items], properties: { items: { type: array, items: { type: integer } } } } }
              each:
                for_each: plan.items
                prompt: "STAGE each: {{ item }}"
            output: "{{ each }}"
            """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static func plan(_ items: Int) -> FakeReply {
        .text(#"{"items": [\#((0..<items).map(String.init).joined(separator: ", "))]}"#)
    }

    /// The requests to the paced model, in order of arrival.
    static func paced(_ server: FakeLLMServer) -> [FakeLogEntry] {
        server.log.filter { $0.model == pacedModel }.sorted { $0.arrival < $1.arrival }
    }

    /// The issue's contract: 10 items at 60 a minute take at least 9 s; at 600 a minute, 0.9 s.
    /// The server sees the requests one interval apart (less what sending them may vary).
    @Test(arguments: [600, 60])
    func tenItemsTakeTheTimeTheLimitImplies(_ perMinute: Int) async throws {
        let folder = try TemporaryFolder("pipe-rate-limit")
        let spec = try spec(items: 10, limit: "{ requests_per_minute: \(perMinute) }", in: folder)
        let server = FakeLLMServer { request in request.prompt.contains("STAGE plan") ? Self.plan(10) : .text("done") }
        try server.start()
        defer { server.stop() }
        let start = ContinuousClock.now
        let result = try await runPipe(["run", spec, "--no-store"], stdin: "", environment: environment(server))
        let wall = ContinuousClock.now - start
        #expect(result.status == 0, "\(result.stderr)")
        let interval = Duration.seconds(60) / perMinute
        #expect(wall >= interval * 9, "10 calls at \(perMinute) a minute took \(wall)")
        let arrivals = Self.paced(server).map(\.arrival)
        try #require(arrivals.count == 10)
        for (k, arrival) in arrivals.enumerated() {
            #expect(arrival - arrivals[0] >= interval * k - .milliseconds(50), "request \(k) came \(arrival - arrivals[0]) after the first")
        }
    }

    /// One item's call (the second to arrive) gets a 429 asking for 1 s: no item calls during
    /// that second, and the calls after it come at half the pace.
    @Test func a429ForOneItemPausesAndSlowsEveryItem() async throws {
        let folder = try TemporaryFolder("pipe-rate-limit-429")
        let spec = try spec(items: 6, limit: "{ requests_per_minute: 240 }", in: folder)
        let itemCalls = Locked(0)
        let server = FakeLLMServer { request in
            if request.prompt.contains("STAGE plan") { return Self.plan(6) }
            let call = itemCalls.withLock { count in
                count += 1
                return count
            }
            return call == 2 ? .rateLimited(retryAfter: "1") : .text("done")
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(["run", spec, "--no-store"], stdin: "", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let requests = Self.paced(server)
        #expect(requests.count == 7)
        let rejected = try #require(requests.firstIndex { $0.status == 429 })
        let answered = try #require(requests[rejected].completion)
        let after = requests[(rejected + 1)...]
        // Nothing from any item during the pause (1 s from when pipe read the 429)...
        #expect(after.allSatisfy { $0.arrival - answered >= .milliseconds(950) }, "\(after.map { $0.arrival - answered })")
        // ...then one call every 0.5 s instead of 0.25 s.
        let resumed = Array(after.prefix(3)).map(\.arrival)
        try #require(resumed.count == 3)
        #expect(resumed[1] - resumed[0] >= .milliseconds(450) && resumed[2] - resumed[1] >= .milliseconds(450), "\(resumed)")
    }
}
