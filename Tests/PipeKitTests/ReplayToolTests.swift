import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe run --record` of a tool-using stage against the fake server and the real git MCP
/// server (`mcp-server-git` from PyPI), then `--replay` with both gone: every turn's tool calls
/// and results come from the cassette. And failed calls recorded and replayed as the same
/// attempts.
@Suite(.serialized) struct ReplayToolTests {
    static let spec = """
        version: 1
        models: { m: { provider: anthropic, model: claude-test } }
        defaults: { model: m, retries: 0 }
        tools:
          git: { mcp: { command: [python3, -m, mcp_server_git, --repository, .] } }
        stages:
          review:
            tools: [git.git_log, git.git_diff_unstaged, git.git_status]
            prompt: "Review the change in {{ input }}."
            output: { schema: { type: object, required: [verdict], properties: { verdict: { type: string } } } }
        output: "{{ review.verdict }}"
        """

    /// Three turns: two tool calls at once, then one, then the answer.
    static func server() -> FakeLLMServer {
        FakeLLMServer { request in
            switch request.callNumber {
            case 1:
                .blocks([
                    .text("Let me look."), .toolUse(name: "git_git_log", input: #"{"repo_path": "."}"#),
                    .toolUse(name: "git_git_diff_unstaged", input: #"{"repo_path": "."}"#),
                ])
            case 2: .blocks([.toolUse(name: "git_git_status", input: #"{"repo_path": "."}"#)])
            default: .text(#"{"verdict": "fine"}"#)
            }
        }
    }

    static func environment(_ server: FakeLLMServer?) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
        ]
        if let server {
            environment["ANTHROPIC_BASE_URL"] = server.baseURL
            environment["ANTHROPIC_API_KEY"] = "sk-ant-TOOLSECRET-77"
        }
        return environment
    }

    /// The `execute_tool` events of a trace: tool, turn, result size, error.
    static func toolCalls(_ trace: String) throws -> [String] {
        try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .filter { $0["event"] == "execute_tool" }
            .map { "\($0["tool"]?.stringValue ?? "") turn \($0["turn"]?.serialized() ?? "") \($0["result_chars"]?.serialized() ?? "") error \($0["is_error"]?.serialized() ?? "")" }
            .sorted()
    }

    @Test func aToolUsingStageReplaysEveryTurnWithoutTheModelOrTheToolServer() async throws {
        let folder = try AgentEndToEndTests.repository(spec: Self.spec)
        let spec = folder.url.appendingPathComponent("review.yaml").path
        let cassette = folder.url.appendingPathComponent("review.cassette.jsonl").path
        let server = Self.server()
        try server.start()
        let recordTrace = folder.url.appendingPathComponent("record.jsonl").path
        let recordStore = folder.url.appendingPathComponent("record.db").path
        let recorded = try await runPipe(
            ["run", "--quiet", "--store", recordStore, "--trace", recordTrace, spec, "--record", cassette], stdin: "notes",
            environment: Self.environment(server))
        server.stop()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout == "fine\n")
        #expect(server.log.count == 3)
        let recordedCalls = try Self.toolCalls(recordTrace)
        #expect(recordedCalls.count == 3)

        // Every exchange whole, tool lists and calls too; no key, header or base URL.
        let text = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(!text.contains("TOOLSECRET"))
        #expect(!text.lowercased().contains("x-api-key"))
        #expect(!text.contains(server.baseURL))
        let lines = text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        let calls = lines.filter { $0["request"] != nil }
        #expect(calls.count == 3)
        #expect(calls.first?["stop_reason"] == "tool_use")
        #expect(calls.first?["content"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["text", "tool_use", "tool_use"])
        #expect(calls.last?["request"]?["tools"]?.arrayValue?.count == 3)
        let sent = calls.last?["request"]?["messages"]?.arrayValue ?? []
        #expect(sent.count == 5)
        #expect(sent.last?["content"]?[0]?["type"] == "tool_result")
        #expect(lines.filter { $0["tools_of"] == "git" }.count == 1)
        #expect(lines.filter { $0["tool_call"] != nil }.compactMap { $0["tool_call"]?["tool"]?.stringValue }.sorted()
            == ["git_diff_unstaged", "git_log", "git_status"])

        // The model server is stopped and the tool server cannot start: the replay takes the
        // replies, the tool lists and the tool results from the cassette.
        try Self.spec.replacingOccurrences(of: "[python3, -m, mcp_server_git, --repository, .]", with: "[/nonexistent/mcp-server-git]")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let replayTrace = folder.url.appendingPathComponent("replay.jsonl").path
        let replayStore = folder.url.appendingPathComponent("replay.db").path
        let replayed = try await runPipe(
            ["run", "--quiet", "--store", replayStore, "--trace", replayTrace, spec, "--replay", cassette], stdin: "notes",
            environment: Self.environment(nil))
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout == "fine\n")
        #expect(try Self.toolCalls(replayTrace) == recordedCalls)
        // The run store holds the same tool calls, arguments and results' sizes included.
        func storedCalls(_ store: String) async throws -> [String] {
            let logs = try await runPipe(["logs", "last", "--json", "--store", store], environment: Self.environment(nil))
            let run = try JSONParser.parse(logs.stdout)
            return (run["tool_calls"]?.arrayValue ?? []).map {
                "\($0["tool"]?.stringValue ?? "") \($0["turn"]?.serialized() ?? "") \($0["arguments"]?.serialized() ?? "") \($0["result_chars"]?.serialized() ?? "")"
            }.sorted()
        }
        let storedRecorded = try await storedCalls(recordStore)
        #expect(storedRecorded.count == 3)
        #expect(try await storedCalls(replayStore) == storedRecorded)

        // A test case replays the tool-using stage the same way.
        try """
            cases:
              - name: replayed with its tools
                input: notes
                replay: review.cassette.jsonl
                expect: { output: fine, stages: { review: { attempts: 1 } } }

            """.write(to: folder.url.appendingPathComponent("review.test.yaml"), atomically: true, encoding: .utf8)
        let tested = try await runPipe(["test", spec], environment: Self.environment(nil))
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")

        // An edited prompt misses, showing the difference.
        try Self.spec.replacingOccurrences(of: "Review the change", with: "Judge the change")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let missed = try await runPipe(["run", "--quiet", "--no-store", spec, "--replay", cassette], stdin: "notes", environment: Self.environment(nil))
        #expect(missed.status == 1)
        #expect(missed.stderr.contains("the request of stage `review` differs from the one recorded (- recorded, + now):"))
        #expect(missed.stderr.contains("  - user: Review the change in notes."))
        #expect(missed.stderr.contains("  + user: Judge the change in notes."))
    }

    @Test func aToolResultThatDiffersFromTheRecordingIsAMissShownAsADifference() async throws {
        let folder = try AgentEndToEndTests.repository(spec: Self.spec)
        let spec = folder.url.appendingPathComponent("review.yaml").path
        let cassette = folder.url.appendingPathComponent("review.cassette.jsonl").path
        let server = Self.server()
        try server.start()
        let recorded = try await runPipe(
            ["run", "--quiet", "--no-store", spec, "--record", cassette], stdin: "notes", environment: Self.environment(server))
        server.stop()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        // The recorded status result is edited: the next request carries it, and is not the one recorded.
        let text = try String(contentsOfFile: cassette, encoding: .utf8)
        let edited = text.split(separator: "\n").map { line -> String in
            guard let value = try? JSONParser.parse(String(line)), value["tool_call"]?["tool"] == "git_status",
                case .object(var object) = value
            else { return String(line) }
            object["outcome"] = ["content": "On branch elsewhere", "is_error": false]
            return JSONValue.object(object).serialized()
        }
        try (edited.joined(separator: "\n") + "\n").write(toFile: cassette, atomically: true, encoding: .utf8)
        let missed = try await runPipe(["run", "--quiet", "--no-store", spec, "--replay", cassette], stdin: "notes", environment: Self.environment(nil))
        #expect(missed.status == 1)
        #expect(missed.stderr.contains("the request of stage `review` differs from the one recorded (- recorded, + now):"))
        #expect(missed.stderr.contains("  + user: [tool_result toolu_fake_2] On branch elsewhere"))
        #expect(missed.stderr.contains("  - user: [tool_result toolu_fake_2] "))
    }

    @Test func failedCallsAreRecordedAndReplayAsTheSameAttempts() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("titles.yaml").path
        let cassette = folder.url.appendingPathComponent("titles.cassette.jsonl").path
        try ReplayTests.spec.replacingOccurrences(of: "retries: 0", with: "retries: 2").write(toFile: spec, atomically: true, encoding: .utf8)
        // A 500, then a reply that breaks the schema (re-asked), then the answer.
        let server = FakeLLMServer(script: [.error(status: 500, message: "overloaded here"), .text("not json"), .text(#"{"title": "T"}"#)])
        try server.start()
        let recordTrace = folder.url.appendingPathComponent("record.jsonl").path
        let recorded = try await runPipe(
            ["run", "--no-store", "--quiet", "--json", "--trace", recordTrace, spec, "--record", cassette], stdin: "tides",
            environment: ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "sk-secret-key-4242"])
        server.stop()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(server.log.count == 3)
        let text = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(!text.contains("sk-secret-key-4242"))
        let lines = text.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        #expect(lines.count == 3)
        #expect(lines.first?["error"]?["kind"] == "status")
        #expect(lines.first?["error"]?["code"] == 500)
        #expect(lines.dropFirst().first?["reply"] == "not json")

        func retries(_ trace: String) throws -> [String] {
            try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
                .filter { $0["event"] == "retry" }.compactMap { $0["reason"]?.stringValue }
        }
        let replayTrace = folder.url.appendingPathComponent("replay.jsonl").path
        let replayed = try await runPipe(
            ["run", "--no-store", "--quiet", "--json", "--trace", replayTrace, spec, "--replay", cassette], stdin: "tides",
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout == recorded.stdout)
        let recordedRetries = try retries(recordTrace)
        #expect(recordedRetries.count == 2)
        #expect(recordedRetries.first?.contains("500") == true)
        #expect(try retries(replayTrace) == recordedRetries)
    }

    @Test func aCassetteOfTextOnlyLinesStillReplays() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("titles.yaml").path
        let cassette = folder.url.appendingPathComponent("titles.cassette.jsonl").path
        try ReplayTests.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let server = FakeLLMServer { _ in .text(#"{"title": "Old title"}"#) }
        try server.start()
        let recorded = try await runPipe(
            ["run", "--no-store", "--quiet", spec, "--record", cassette], stdin: "tides",
            environment: ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k"])
        server.stop()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        // The line as cassettes were written before blocks were recorded: the reply's text only.
        let line = try JSONParser.parse(String(String(contentsOfFile: cassette, encoding: .utf8).split(separator: "\n")[0]))
        guard case .object(var old) = line else { Issue.record("not an object"); return }
        old["content"] = nil
        old["stop_reason"] = nil
        #expect(old["request"]?["messages"]?[0]?.stringValue?.hasPrefix("user: Write a title about tides.") == true)
        try (JSONValue.object(old).serialized() + "\n").write(toFile: cassette, atomically: true, encoding: .utf8)
        let replayed = try await runPipe(
            ["run", "--no-store", "--quiet", spec, "--replay", cassette], stdin: "tides", environment: ["PATH": "/usr/bin:/bin"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout.contains("Old title"))
    }
}
