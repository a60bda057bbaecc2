import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// The fake server's batch APIs, driven by the official Python SDKs (`anthropic`, `openai`,
/// installed by scripts/test-deps.sh): the shapes they parse are the shapes pipe reads.
@Suite("FakeLLM batch APIs")
struct FakeLLMBatchTests {
    @Test func officialSDKsCreatePollReadAndCancel() async throws {
        let server = FakeLLMServer { request in
            request.prompt.contains("fail") ? .error(status: 400, message: "bad request") : .text("hi: \(request.prompt)")
        }
        server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(2)) { customID, _ in customID.hasPrefix("expire") })
        try server.start()
        defer { server.stop() }
        let script = Paths.testdata.appendingPathComponent("batches/sdk_batches.py").path
        let result = try await runProgram(MCPToolServersTests.python, [script, server.baseURL])
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")

        #expect(seen["anthropic_created"] as? String == "in_progress")
        #expect(seen["anthropic_processing"] as? Int == 3)
        let counts = try #require(seen["anthropic_counts"] as? [String: Int])
        #expect(counts == ["processing": 0, "succeeded": 1, "errored": 1, "expired": 1, "canceled": 0])
        let results = try #require(seen["anthropic_results"] as? [String: [Any]])
        #expect(results["ok-1"]?.first as? String == "succeeded")
        #expect(results["ok-1"]?[1] as? String == "hi: say hello")
        #expect(results["bad-2"]?.last as? String == "invalid_request_error")
        #expect(results["expire-3"]?.first as? String == "expired")
        #expect(seen["anthropic_cancel"] as? String == "canceling")
        #expect(seen["anthropic_canceled"] as? [String] == ["canceled"])

        let file = try #require(seen["openai_file"] as? [Any])
        #expect(file.first as? String == "batch")
        #expect(file.last as? Bool == true)
        #expect(seen["openai_created"] as? String == "in_progress")
        #expect(seen["openai_status"] as? String == "completed")
        #expect(seen["openai_counts"] as? [String: Int] == ["total": 3, "completed": 1, "failed": 2])
        let openAI = try #require(seen["openai_results"] as? [String: [Any]])
        #expect(openAI["ok-1"]?.last as? String == "hi: say hello")
        #expect(openAI["bad-2"]?.last as? Int == 400)
        #expect(openAI["expire-3"]?.first as? String == "batch_expired")
        #expect(seen["openai_cancel"] as? String == "cancelling")
        #expect(seen["openai_canceled"] as? String == "cancelled")

        // The log of batches: four created, each once, two of them canceled.
        let batches = server.batches
        #expect(batches.map(\.api) == [.anthropic, .anthropic, .openAI, .openAI])
        #expect(batches.map(\.customIDs) == [["ok-1", "bad-2", "expire-3"], ["later"], ["ok-1", "bad-2", "expire-3"], ["ok-1"]])
        #expect(batches.map(\.canceled) == [false, true, false, true])
        #expect(batches[2].models == ["gpt-sdk", "gpt-sdk", "gpt-sdk"])
    }

    @Test func rejectsBadCustomIDsAndBatchesOverTheLimits() async throws {
        try await withFakeServer(FakeLLMServer.defaultReply) { server in
            server.setBatchOptions(FakeBatchOptions(maxRequests: 2))
            func create(_ ids: [String]) async throws -> Int {
                let requests = ids.map { ["custom_id": $0, "params": ["model": "m", "max_tokens": 8, "messages": [["role": "user", "content": "x"]]]] as [String: Any] }
                return try await HTTPClient.shared.send(jsonRequest(server, path: "/v1/messages/batches", body: ["requests": requests])).status
            }
            let statuses = [try await create(["has space"]), try await create(["a", "a"]), try await create(["a", "b", "c"]), try await create(["a", "b"])]
            #expect(statuses == [400, 400, 400, 200])
            #expect(server.batches.count == 1)
        }
    }
}

/// Runs `executable arguments` to its end on a thread of its own.
func runProgram(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
    try await onOwnThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.runUnblocked()
        return collect(process, out: out, err: err)
    }
}
