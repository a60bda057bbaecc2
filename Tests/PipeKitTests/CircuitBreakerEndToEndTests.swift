import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `circuit_breaker` run by `pipe run` against the fake server: after N failed calls the model
/// is not called any more (the fake server counts the requests) and each item goes to the
/// fallback at once; after the cool-down a trial call closes the circuit.
@Suite final class CircuitBreakerEndToEndTests: Sendable {
    let folder: TemporaryFolder
    let spec: String
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-circuit")
        spec = folder.url.appendingPathComponent("circuit.yaml").path
        try FileManager.default.copyItem(atPath: Paths.testdata.appendingPathComponent("run/circuit.yaml").path, toPath: spec)
        store = folder.url.appendingPathComponent("runs.db").path
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "test-key-circuit", "PIPE_STORE": store]
    }

    func traceEvents() throws -> [JSONValue] {
        try String(contentsOfFile: folder.url.appendingPathComponent("trace.jsonl").path, encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    @Test func anOpenCircuitSavesTheCallsAndSendsEachItemToItsFallbackAtOnce() async throws {
        let server = FakeLLMServer { request in
            request.model == "claude-down" ? .error(status: 503, message: "overloaded") : .text("ok \(request.prompt.suffix(1))")
        }
        try server.start()
        defer { server.stop() }
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(["run", spec, "--json", "--trace", trace], stdin: "x", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONParser.parse(result.stdout) == ["ok 1", "ok 2", "ok 3", "ok 4", "ok 5", "ok 6"])
        // Two failed calls opened it; the other four items never reached the model.
        #expect(server.log.filter { $0.request.model == "claude-down" }.count == 2)
        #expect(server.log.filter { $0.request.model == "claude-backup" }.count == 6)
        #expect(result.stderr.contains("pipe: circuit down (claude-down): opened 1×, closed 0×, 4 calls saved; still open"))
        #expect(result.stderr.contains("circuit of `down` opened after 2 failed calls in a row; calls fail at once for 1m00s"))
        let circuit = try traceEvents().filter { $0["event"] == "circuit" }
        #expect(circuit.compactMap { $0["state"]?.stringValue } == ["opened", "refused", "refused", "refused", "refused"])
        #expect(circuit.first?["stage"] == "work[1]")
        #expect(circuit.last?["stage"] == "work[5]")
        // Every event, the circuit's included, is one the trace's schema describes (but the
        // command stage's `stage_end`, which has no model while the schema requires one).
        let schema = try JSONSchema(
            compiling: JSONParser.parse(String(contentsOf: Paths.root.appendingPathComponent("schemas/trace-event.schema.json"), encoding: .utf8)))
        for event in try traceEvents() where event["stage"] != "list" { #expect(schema.validate(event, maxErrors: 3).isEmpty, "\(event.serialized())") }
        // Each refused item fell back at once, without a retry on the open model.
        let item3 = try traceEvents().filter { $0["stage"] == "work[3]" }.compactMap { $0["event"]?.stringValue }
        #expect(item3 == ["stage_start", "request", "circuit", "response", "fallback", "request", "response", "stage_end"])
        // `pipe logs` shows the calls not made, and the call that opened the circuit.
        let logs = try await runPipe(["logs", "last", "--json"], environment: environment(server))
        let calls = try JSONParser.parse(logs.stdout)["calls"]?.arrayValue ?? []
        let problems = calls.flatMap { $0["problems"]?.arrayValue ?? [] }.compactMap(\.stringValue)
        #expect(problems.filter { $0.hasPrefix("not called: its circuit breaker is open after 2 failed calls in a row") }.count == 4)
        #expect(problems.contains("the circuit opened after 2 failed calls in a row, for 1m00s"))
    }

    @Test func afterTheCoolDownATrialCallClosesTheCircuit() async throws {
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try text.replacingOccurrences(of: "cool_down: 60s", with: "cool_down: 1ms").write(toFile: spec, atomically: true, encoding: .utf8)
        let downCalls = Locked(0)
        let server = FakeLLMServer { request in
            guard request.model == "claude-down" else { return .text("backup") }
            // The model is down for two calls, then back.
            let call = downCalls.withLock { count in
                count += 1
                return count
            }
            return call <= 2 ? .error(status: 500, message: "down") : .text("down is back")
        }
        try server.start()
        defer { server.stop() }
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(["run", spec, "--json", "--trace", trace], stdin: "x", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        // Items 0 and 1 failed on `down` (the second opened it); the backup answered them. Item 2
        // is the trial after the cool-down; it closes the circuit and the rest go to `down`.
        #expect(try JSONParser.parse(result.stdout) == ["backup", "backup", "down is back", "down is back", "down is back", "down is back"])
        let circuit = try traceEvents().filter { $0["event"] == "circuit" }
        #expect(circuit.compactMap { $0["state"]?.stringValue } == ["opened", "trial", "closed"])
        #expect(circuit.compactMap { $0["stage"]?.stringValue } == ["work[1]", "work[2]", "work[2]"])
        #expect(result.stderr.contains("pipe: circuit down (claude-down): opened 1×, closed 1×, 0 calls saved"))
        #expect(result.stderr.contains("circuit of `down` closed (0 calls saved)"))
    }
}
