import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipeline:` stages (a stage that runs another spec) by `pipe run` against the fake server:
/// the child's output flows downstream, its calls are recorded and traced under the parent
/// stage (`team/researcher`, `each[1]/reviewer`), `for_each` runs one child per item,
/// `--resume` reuses the child's finished stages, `--mock` answers the child's stages with
/// their `mock:` values, and `pipe graph` draws the child as a subgraph.
@Suite final class PipelineStageEndToEndTests: Sendable {
    static let specs = Paths.testdata.appendingPathComponent("run/pipelines")
    let folder: TemporaryFolder
    let spec: String
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-child")
        let copy = folder.url.appendingPathComponent("specs")
        try FileManager.default.copyItem(at: Self.specs, to: copy)
        spec = copy.appendingPathComponent("parent.yaml").path
        store = folder.url.appendingPathComponent("runs.db").path
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "test-key-child", "PIPE_STORE": store]
    }

    /// What each stage answers: `plan` two topics; `researcher` and `reviewer` mark what they
    /// read; `writer` echoes its prompt. With `failing`, the reviewer of topic `b` fails.
    static func handler(failing: Bool) -> FakeLLMServer.Handler {
        { request in
            let text = String(request.prompt.drop { $0 != ":" }.dropFirst(2))
            switch RunEndToEndTests.stage(of: request) {
            case "plan": return .text(#"{"topics": ["a", "b"]}"#)
            case "researcher": return .text("found-" + text)
            case "reviewer":
                return failing && text == "found-b" ? .error(status: 400, message: "bad review", type: "invalid_request_error") : .text("kept-" + text)
            default: return .text(text)
            }
        }
    }

    func calls(_ server: FakeLLMServer, _ stage: String) -> Int {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }.count
    }

    @Test func theChildRunsInsideTheRunAndItsOutputFlowsDownstream() async throws {
        let server = FakeLLMServer(handler: Self.handler(failing: false))
        try server.start()
        defer { server.stop() }
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(["run", spec, "--json", "--trace", trace], stdin: "tides", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["text"] == "kept-found-tides | kept-found-a | kept-found-b")
        #expect(output["summary"] == "tides reviewed")
        // One child for `team`, one per item of `each`: three researchers, three reviewers.
        #expect(calls(server, "researcher") == 3)
        #expect(calls(server, "reviewer") == 3)
        // Each reviewer read its own researcher's value.
        #expect(server.log.filter { RunEndToEndTests.stage(of: $0.request) == "reviewer" }.map(\.request.prompt).sorted()
            == ["STAGE reviewer: found-a", "STAGE reviewer: found-b", "STAGE reviewer: found-tides"])
        // The summary has the pipeline stage; the store and `pipe logs` the child's stages under it.
        #expect(result.stderr.split(separator: "\n").contains { $0.hasPrefix("team ") && $0.contains(" pipeline ") })
        let logs = try await runPipe(["logs", "last"], environment: environment(server))
        #expect(logs.status == 0, "\(logs.stderr)")
        for unit in ["team/researcher", "team/reviewer", "each[0]/researcher", "each[1]/reviewer"] {
            #expect(logs.stdout.contains(unit), "\(unit) missing from pipe logs:\n\(logs.stdout)")
        }
        // The trace names the child's stages under the parent stage, and ends them before it.
        let events = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let ends = events.filter { $0["event"] == "stage_end" }.compactMap { $0["stage"]?.stringValue }
        #expect(ends.contains("team/researcher"))
        let reviewer = try #require(ends.firstIndex(of: "team/reviewer"))
        let team = try #require(ends.firstIndex(of: "team"))
        #expect(reviewer < team)
    }

    @Test func resumeAfterAFailureReusesTheChildsFinishedStages() async throws {
        let failing = FakeLLMServer(handler: Self.handler(failing: true))
        try failing.start()
        let first = try await runPipe(["run", spec], stdin: "tides", environment: environment(failing))
        failing.stop()
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stderr.contains("each[1]/reviewer"), "\(first.stderr)")

        let healthy = FakeLLMServer(handler: Self.handler(failing: false))
        try healthy.start()
        defer { healthy.stop() }
        let resumed = try await runPipe(["run", spec, "--resume", "last", "--json"], stdin: "tides", environment: environment(healthy))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try JSONParser.parse(resumed.stdout)["text"] == "kept-found-tides | kept-found-a | kept-found-b")
        // Only what had not finished is called again: item b's reviewer, then the writer.
        #expect(calls(healthy, "plan") == 0)
        #expect(calls(healthy, "researcher") == 0)
        #expect(calls(healthy, "reviewer") == 1)
        #expect(calls(healthy, "writer") == 1)
    }

    @Test func cacheReusesTheChildsStagesInTheNextRun() async throws {
        let server = FakeLLMServer(handler: Self.handler(failing: false))
        try server.start()
        defer { server.stop() }
        let first = try await runPipe(["run", spec, "--cache", "--json"], stdin: "tides", environment: environment(server))
        #expect(first.status == 0, "\(first.stderr)")
        let called = server.log.count
        let second = try await runPipe(["run", spec, "--cache", "--json"], stdin: "tides", environment: environment(server))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == first.stdout)
        #expect(server.log.count == called)
    }

    @Test func theChildsCallsCountAgainstTheParentsBudget() async throws {
        let server = FakeLLMServer(handler: Self.handler(failing: false))
        try server.start()
        defer { server.stop() }
        let budget = (spec as NSString).deletingLastPathComponent + "/budget.yaml"
        let result = try await runPipe(["run", budget], stdin: "tides", environment: environment(server))
        // The child's first call would pass the parent's budget.max_tokens: stopped before it (exit 4).
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("team/researcher"), "\(result.stderr)")
        #expect(server.log.isEmpty)
    }

    @Test func mockRunsTheChildWithItsMockValues() async throws {
        let result = try await runPipe(["run", spec, "--mock", "--json"], stdin: "tides", environment: ["PATH": "/usr/bin:/bin", "PIPE_STORE": store])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["summary"] == "tides reviewed")
        // The reviewer (no `mock:`) read its researcher's `mock:` value, in the child of the
        // second item of the plan's `mock:` topics.
        #expect(output["findings"]?.stringValue?.hasSuffix("STAGE reviewer: mocked-research") == true, "\(result.stdout)")
        #expect(output["text"]?.stringValue?.hasPrefix("Mock output of stage writer") == true, "\(result.stdout)")
    }

    @Test func graphDrawsTheChildAsASubgraph() async throws {
        let mermaid = try await runPipe(["graph", spec])
        #expect(mermaid.status == 0, "\(mermaid.stderr)")
        #expect(mermaid.stdout.contains("subgraph s1_child[\"team: teams/team.yaml\"]"), "\(mermaid.stdout)")
        #expect(mermaid.stdout.contains("s1_0 --> s1_1"))
        let dot = try await runPipe(["graph", spec, "--format", "dot"])
        #expect(dot.status == 0, "\(dot.stderr)")
        #expect(dot.stdout.contains("subgraph \"cluster_each\""))
        #expect(dot.stdout.contains("\"each/researcher\" -> \"each/reviewer\";"))
    }

    @Test func dryRunCountsTheChildsWorstCase() async throws {
        let plan = try await runPipe(["run", spec, "--dry-run"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let row = plan.stdout.split(separator: "\n").first { $0.hasPrefix("team ") }
        #expect(row?.contains("pipeline: teams/team.yaml (2 stages)") == true, "\(plan.stdout)")
    }
}
