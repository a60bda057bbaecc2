import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `approve: true`: the run stops before the stage (exit 5); `pipe approve` continues it
/// without calling the finished stages again; `pipe reject` ends it.
@Suite final class ApprovalTests: Sendable {
    let folder: TemporaryFolder
    var directory: URL { folder.url }
    let spec: String

    init() throws {
        folder = try TemporaryFolder("pipe-approve")
        spec = folder.url.appendingPathComponent("refund.yaml").path
        try """
            version: 1
            models: { claude: { provider: anthropic, model: claude-test } }
            defaults: { model: claude, retries: 0 }
            stages:
              draft: { prompt: "STAGE draft: refund for {{ input }}" }
              send:
                approve: true
                prompt: "STAGE send: {{ draft }}"
            output: "{{ send }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k"]
    }

    func calls(_ server: FakeLLMServer, _ stage: String) -> Int {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }.count
    }

    @Test func aRunWaitsThenApproveContinuesWithoutRepeatingFinishedStages() async throws {
        let server = FakeLLMServer { request in .text("reply to \(RunEndToEndTests.stage(of: request))") }
        try server.start()
        defer { server.stop() }
        let waiting = try await runPipe(["run", spec], stdin: "order 42", environment: environment(server))
        #expect(waiting.status == 5)
        #expect(waiting.stdout.isEmpty)
        #expect(waiting.stderr.contains("stage `send` waits for approval. It would receive:"))
        #expect(waiting.stderr.contains("| STAGE send: reply to draft"))
        #expect(calls(server, "draft") == 1 && calls(server, "send") == 0)
        guard let id = waiting.stderr.firstMatch(of: /pipe approve (\S+)/)?.1 else {
            Issue.record("no approve command in: \(waiting.stderr)")
            return
        }
        let approved = try await runPipe(["approve", String(id), "--spec", spec], environment: environment(server))
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout == "reply to send\n")
        #expect(calls(server, "draft") == 1)
        #expect(calls(server, "send") == 1)
        // The approval carries over: resuming the continued run asks nobody.
        let again = try await runPipe(["run", spec, "--resume", "last"], environment: environment(server))
        #expect(again.status == 0)
        #expect(calls(server, "send") == 1)
    }

    @Test func rejectEndsTheRun() async throws {
        let server = FakeLLMServer { _ in .text("ok") }
        try server.start()
        defer { server.stop() }
        let waiting = try await runPipe(["run", "--quiet", spec], stdin: "order 42", environment: environment(server))
        #expect(waiting.status == 5)
        let rejected = try await runPipe(["reject", "last", "--spec", spec, "--reason", "too much"], environment: environment(server))
        #expect(rejected.status == 0)
        #expect(rejected.stderr.contains("rejected"))
        let approveAfter = try await runPipe(["approve", "last", "--spec", spec], environment: environment(server))
        #expect(approveAfter.status == 2)
        #expect(approveAfter.stderr.contains("is not waiting for approval (it is rejected)"))
        let logs = try await runPipe(["logs", "--spec", spec], environment: environment(server))
        #expect(logs.stdout.contains("rejected"))
        #expect(calls(server, "send") == 0)
    }

    @Test func approveAllRunsEverything() async throws {
        let server = FakeLLMServer { _ in .text("ok") }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(["run", "--quiet", "--approve-all", spec], stdin: "order 42", environment: environment(server))
        #expect(result.status == 0)
        #expect(calls(server, "send") == 1)
    }
}
