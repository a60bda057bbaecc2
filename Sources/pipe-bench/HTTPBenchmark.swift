import FakeLLM
import Foundation
import PipeKit

/// `pipe-bench http`: request throughput and latency of `HTTPClient` (one thread, one
/// connection cache) against an in-process fake server.
enum HTTPBenchmark {
    static let command = BenchCommand(
        name: "http",
        summary: "HTTPClient throughput against the fake server: --requests N --concurrency N --latency-ms N [--stream]",
        usage: """
            usage: pipe-bench http [--requests N] [--concurrency N] [--latency-ms N] [--stream]

            Sends --requests Anthropic-shaped requests (default 2000), at most --concurrency
            in flight (default 100), to an in-process fake server that waits --latency-ms
            before each reply (default 0). --stream asks for streamed replies and parses
            their events. Prints wall time, requests per second, latency percentiles and the
            number of TCP connections the client opened.
            """,
        valued: ["--requests", "--concurrency", "--latency-ms"], switches: ["--stream"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let requests = try options.number("--requests", default: 2000)
        let concurrency = try options.number("--concurrency", default: 100)
        let latency = try options.number("--latency-ms", default: 0, in: 0...Int.max)
        let streaming = options.isSet("--stream")

        let server = FakeLLMServer(reply: FakeReply.text("The quick brown fox jumps over the lazy dog.").delayed(by: .milliseconds(latency)))
        do { try server.start() } catch {
            print("cannot start the fake server: \(error)")
            return 1
        }
        defer { server.stop() }
        let client = HTTPClient()
        let body = try! JSONSerialization.data(withJSONObject: [
            "model": "claude-bench", "max_tokens": 64, "stream": streaming,
            "messages": [["role": "user", "content": "Say something."]],
        ] as [String: Any])
        let request = HTTPRequest(
            url: server.baseURL + "/v1/messages", headers: ["content-type": "application/json", "x-api-key": "bench"],
            body: Array(body), timeout: .seconds(30))

        let clock = ContinuousClock()
        let start = clock.now
        var latencies: [Duration] = []
        var failures = 0
        await withTaskGroup(of: Duration?.self) { group in
            func launch() {
                group.addTask { [streaming] in
                    let begin = clock.now
                    do {
                        let response = streaming
                            ? try await client.streamEvents(request) { _ in }
                            : try await client.send(request)
                        return response.status == 200 ? clock.now - begin : nil
                    } catch {
                        return nil
                    }
                }
            }
            for _ in 0..<min(concurrency, requests) { launch() }
            var launched = min(concurrency, requests)
            for await result in group {
                if let result { latencies.append(result) } else { failures += 1 }
                if launched < requests {
                    launch()
                    launched += 1
                }
            }
        }
        let wall = clock.now - start
        let percentiles = Percentiles(latencies)
        func percentile(_ p: Double) -> String { percentiles.text(p, decimals: 1) }
        let seconds = wall.milliseconds / 1000
        print("http: \(requests) requests, concurrency \(concurrency), server latency \(latency) ms, \(streaming ? "streamed" : "whole") replies")
        print(String(format: "  wall %.3f s, %.0f requests/s", seconds, Double(requests) / seconds))
        print("  latency p50 \(percentile(0.5)), p90 \(percentile(0.9)), p99 \(percentile(0.99)), max \(percentile(1))")
        print("  failures \(failures), TCP connections opened \(server.connectionsAccepted)")
        return failures == 0 ? 0 : 1
    }
}

extension Duration {
    fileprivate var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
