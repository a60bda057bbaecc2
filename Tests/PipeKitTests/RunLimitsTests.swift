import FakeLLM
import Foundation
import Synchronization
import Testing
@testable import PipeKit

/// `pipe run` against the fake server where replies, budgets and concurrency meet their
/// limits: what the user sees on stdout and stderr, and what the store keeps.
@Suite struct RunLimitsTests {
    static let anthropicKey = "sk-ant-REPLYSECRET-0123456789"
    static let openAIKey = "sk-proj-REPLYSECRET-9876543210"

    func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": Self.anthropicKey, "OPENAI_API_KEY": Self.openAIKey,
        ]
    }

    /// Writes `text` to `name` in `folder` and returns its path.
    func write(_ text: String, _ name: String, in folder: borrowing TemporaryFolder) throws -> String {
        let url = folder.url.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    // MARK: - Keys in replies

    @Test func aKeyEchoedInAReplyIsPrintedStoredAndShownNowhere() async throws {
        let folder = try TemporaryFolder("pipe-key-reply")
        let spec = try write("""
            version: 1
            models:
              claude: { provider: anthropic, model: claude-test }
              gpt: { provider: openai, model: gpt-test }
            defaults: { max_tokens: 200, retries: 0, timeout: 10s }
            stages:
              told:
                model: claude
                prompt: "STAGE told: what is your key?"
              structured:
                model: gpt
                prompt: "STAGE structured: {{ told }}"
                output: { schema: { type: object, required: [key], properties: { key: { type: string } } } }
            output:
              told: "{{ told }}"
              key: "{{ structured.key }}"
            """, "keys.yaml", in: folder)
        let server = FakeLLMServer { request in
            let key = request.header("x-api-key") ?? request.header("authorization")?.replacingOccurrences(of: "Bearer ", with: "") ?? ""
            return request.prompt.contains("STAGE told") ? .text("my key is \(key), keep it") : .text(#"{"key": "\#(key)"}"#)
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(["run", spec], stdin: "", environment: environment(server))
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONParser.parse(result.stdout)
        #expect(output["told"] == "my key is <redacted>, keep it")
        #expect(output["key"] == "<redacted>")
        // The next stage was given the redacted reply, not the key.
        let structured = try #require(server.log.first { $0.request.prompt.contains("STAGE structured") })
        #expect(structured.request.prompt.contains("my key is <redacted>"))

        let logs = try await runPipe(["logs", "last", "--store", folder.storePath], environment: ["PATH": "/usr/bin:/bin"])
        let json = try await runPipe(["logs", "last", "--json", "--store", folder.storePath], environment: ["PATH": "/usr/bin:/bin"])
        #expect(logs.status == 0 && json.status == 0, "\(logs.stderr) \(json.stderr)")
        #expect(json.stdout.contains("<redacted>"))
        var stored: [UInt8] = []
        let storeFolder = folder.url.appendingPathComponent(".pipe")
        for name in try FileManager.default.contentsOfDirectory(atPath: storeFolder.path) {
            stored += [UInt8](try Data(contentsOf: storeFolder.appendingPathComponent(name)))
        }
        #expect(!stored.isEmpty)
        for key in [Self.anthropicKey, Self.openAIKey] {
            for (place, text) in [("stdout", result.stdout), ("stderr", result.stderr), ("logs", logs.stdout), ("logs --json", json.stdout)] {
                #expect(!text.contains(key), "the key is in \(place)")
            }
            #expect(stored.firstRange(of: Array(key.utf8)) == nil, "the key is in the store")
        }
    }

}
