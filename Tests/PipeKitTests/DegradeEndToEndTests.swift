import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `on_error`: a stage that fails after its retries and fallbacks is skipped or takes its
/// default, the run goes on and exits 0, the summary, `pipe logs` and the trace say so,
/// `--strict-errors` makes it exit 1, and the next run (`--resume`, `--cache`) tries it again.
/// Run by `pipe run` and `pipe batch` against the fake server.
@Suite final class DegradeEndToEndTests: Sendable {
    static let specPath = Paths.testdata.appendingPathComponent("run/degrade.yaml").path
    let folder: TemporaryFolder
    let spec: String
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-degrade")
        spec = folder.url.appendingPathComponent("degrade.yaml").path
        try FileManager.default.copyItem(atPath: Self.specPath, toPath: spec)
        store = folder.url.appendingPathComponent("runs.db").path
    }

    func environment(_ server: FakeLLMServer, _ extra: [String: String] = [:]) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "test-key-degrade", "PIPE_STORE": store]
            .merging(extra) { _, new in new }
    }

    /// `facts` and `tone` always get a 500 (retried once), item `b` of `each` a 400; `writer`
    /// answers with what it read.
    static func failing(_ request: FakeRequest) -> FakeReply {
        switch RunEndToEndTests.stage(of: request) {
        case "facts", "tone": .error(status: 500, message: "model down")
        case "each": request.prompt.hasSuffix(": b") ? .error(status: 400, message: "bad item", type: "invalid_request_error") : .text("ok-a")
        default: .text(String(request.prompt.dropFirst("STAGE writer: ".count)))
        }
    }

    /// Every stage answers.
    static func healthy(_ request: FakeRequest) -> FakeReply {
        switch RunEndToEndTests.stage(of: request) {
        case "facts": .text(#"{"items": ["f1"]}"#)
        case "tone": .text(#"{"mood": "calm"}"#)
        case "each": .text("ok-" + String(request.prompt.suffix(1)))
        default: .text(String(request.prompt.dropFirst("STAGE writer: ".count)))
        }
    }

    func calls(_ server: FakeLLMServer, _ stage: String) -> Int {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }.count
    }

    func withServer(_ handler: @escaping FakeLLMServer.Handler, _ body: (FakeLLMServer) async throws -> Void) async throws {
        let server = FakeLLMServer(handler: handler)
        try server.start()
        defer { server.stop() }
        try await body(server)
    }

    @Test func failedStagesAreSkippedOrDefaultedAndTheRunSucceeds() async throws {
        try await withServer(Self.failing) { server in
            let trace = folder.url.appendingPathComponent("trace.jsonl").path
            let result = try await runPipe(["run", spec, "--json", "--trace", trace], stdin: "tides", environment: environment(server))
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONParser.parse(result.stdout)
            // Downstream, the skipped stages take their `??` values and the others their defaults.
            #expect(output["facts"] == "none")
            #expect(output["mood"] == "neutral")
            #expect(output["each"] == [])
            #expect(output["broken"] == "none")
            #expect(output["text"] == "tides facts=none mood=neutral each=[] broken=none")
            // Each failing stage had its retries before it was degraded.
            #expect(calls(server, "facts") == 2)
            #expect(calls(server, "tone") == 2)
            // The summary and stderr name each degraded stage with its last error.
            let rows = result.stderr.split(separator: "\n")
            #expect(rows.contains { $0.hasPrefix("facts ") && $0.contains(" failed → skipped ") })
            #expect(rows.contains { $0.hasPrefix("tone ") && $0.contains(" failed → default ") })
            #expect(result.stderr.contains("pipe: stage `facts` failed → skipped (on_error): claude (claude-test): 500 from anthropic"))
            #expect(result.stderr.contains("pipe: stage `tone` failed → default (on_error): claude (claude-test): 500 from anthropic"))
            #expect(result.stderr.contains("pipe: stage `each` failed → default (on_error): an item failed: claude (claude-test): 400"))
            #expect(result.stderr.contains("pipe: stage `broken` failed → skipped (on_error): command: exit 3; stderr: boom"))
            // The trace records the stage's end as degraded, after its failed attempts.
            let events = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
            let factsEvents = events.filter { $0["stage"] == "facts" }.compactMap { $0["event"]?.stringValue }
            #expect(factsEvents.last == "stage_end")
            #expect(factsEvents.filter { $0 == "response" }.count == 2)
            let end = events.last { $0["stage"] == "facts" && $0["event"] == "stage_end" }
            #expect(end?["status"] == "failed_skipped")
            #expect(end?["error"]?.stringValue?.contains("500 from anthropic") == true)
            #expect(events.last { $0["stage"] == "tone" && $0["event"] == "stage_end" }?["status"] == "failed_default")
            #expect(events.last?["event"] == "run_end")
            #expect(events.last?["status"] == "succeeded")

            // `pipe logs` marks them too.
            let logs = try await runPipe(["logs", "last"], environment: environment(server))
            #expect(logs.status == 0, "\(logs.stderr)")
            #expect(logs.stdout.contains("failed → skipped"))
            #expect(logs.stdout.contains("failed → default"))
            #expect(logs.stdout.contains("tone failed → default: claude (claude-test): 500 from anthropic"))
            let json = try JSONParser.parse(try await runPipe(["logs", "last", "--json"], environment: environment(server)).stdout)
            let statuses = json["stages"]?.arrayValue?.compactMap { stage in stage["stage"]?.stringValue.map { ($0, stage["status"]?.stringValue ?? "") } }
            #expect(statuses.map { Dictionary($0, uniquingKeysWith: { $1 }) }?["facts"] == "failed_skipped")
        }
    }

    @Test func strictErrorsTurnsADegradedRunIntoExit1() async throws {
        try await withServer(Self.failing) { server in
            let flag = try await runPipe(["run", spec, "--strict-errors"], stdin: "tides", environment: environment(server))
            #expect(flag.status == 1, "\(flag.stderr)")
            #expect(flag.stdout.isEmpty)
            #expect(flag.stderr.contains("--strict-errors: the output is partial (4 stages degraded)"))
            #expect(flag.stderr.contains("--resume"))
            let variable = try await runPipe(["run", spec], stdin: "tides", environment: environment(server, ["PIPE_STRICT_ERRORS": "1"]))
            #expect(variable.status == 1, "\(variable.stderr)")
        }
        // A run that nothing degraded is not touched by it.
        try await withServer(Self.healthy) { server in
            let clean = try await runPipe(["run", spec, "--strict-errors", "--json"], stdin: "moon", environment: environment(server))
            #expect(clean.status == 0, "\(clean.stderr)")
            #expect(try JSONParser.parse(clean.stdout)["facts"] == ["f1"])
        }
    }

    @Test func resumeAndCacheTryADegradedStageAgain() async throws {
        try await withServer(Self.failing) { server in
            let degraded = try await runPipe(["run", spec, "--quiet"], stdin: "tides", environment: environment(server))
            #expect(degraded.status == 0, "\(degraded.stderr)")
        }
        try await withServer(Self.healthy) { server in
            let resumed = try await runPipe(["run", spec, "--json", "--resume", "last"], environment: environment(server))
            #expect(resumed.status == 0, "\(resumed.stderr)")
            // The degraded stages are called again, not reused; the writer reads their values now.
            #expect(calls(server, "facts") == 1)
            #expect(calls(server, "tone") == 1)
            // `each` runs again as a whole; its item that succeeded is reused, the failed one called again.
            #expect(server.log.filter { $0.request.prompt == "STAGE each: b" }.count == 1)
            #expect(server.log.filter { $0.request.prompt == "STAGE each: a" }.isEmpty)
            let output = try JSONParser.parse(resumed.stdout)
            #expect(output["facts"] == ["f1"])
            #expect(output["mood"] == "calm")
            #expect(output["text"]?.stringValue?.contains("mood=calm") == true)
        }
        // `--cache` never answers from a degraded stage's record either.
        try await withServer(Self.failing) { server in
            _ = try await runPipe(["run", spec, "--quiet"], stdin: "moon", environment: environment(server))
        }
        try await withServer(Self.healthy) { server in
            let cached = try await runPipe(["run", spec, "--json", "--cache"], stdin: "moon", environment: environment(server))
            #expect(cached.status == 0, "\(cached.stderr)")
            #expect(calls(server, "tone") == 1)
            #expect(try JSONParser.parse(cached.stdout)["mood"] == "calm")
        }
    }

    @Test func aDegradedBatchItemSucceedsNamingItsDegradedStages() async throws {
        try await withServer(Self.failing) { server in
            let input = folder.url.appendingPathComponent("in.jsonl").path
            try "\"tides\"\n".write(toFile: input, atomically: true, encoding: .utf8)
            let batch = try await runPipe(["batch", spec, "--input", input, "--quiet"], environment: environment(server))
            #expect(batch.status == 0, "\(batch.stderr)")
            let line = try JSONParser.parse(batch.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(line["status"] == "succeeded")
            #expect(Set(line["degraded"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["facts", "tone", "each", "broken"])
            #expect(line["error"]?.stringValue?.contains("tone: failed → default: claude (claude-test): 500 from anthropic") == true)
            #expect(line["output"]?["mood"] == "neutral")
            // Read back from the queue, the line is the same.
            let stored = try await runPipe(["batch", "results", "last"], environment: environment(server))
            #expect(try JSONParser.parse(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["degraded"] == line["degraded"])
        }
    }
}
