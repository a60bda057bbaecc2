import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Agent stages through `pipe run` and `pipe tools` with the real MCP client and the reference
/// servers from PyPI (`mcp-server-git`, `mcp-server-time`).
@Suite(.serialized) struct AgentEndToEndTests {
    /// A git repository with one commit and an uncommitted change, and a spec beside it whose
    /// `git` server runs there.
    static func repository(spec: String) throws -> TemporaryFolder {
        let folder = try TemporaryFolder("agent-git")
        let repo = folder.url.path
        try "hello\n".write(toFile: repo + "/notes.txt", atomically: true, encoding: .utf8)
        for arguments in [
            ["init", "-q", "-b", "main"], ["add", "notes.txt"],
            ["-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "First notes"],
        ] {
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            git.arguments = ["-C", repo] + arguments
            try git.run()
            git.waitUntilExit()
        }
        try "changed\n".write(toFile: repo + "/notes.txt", atomically: true, encoding: .utf8)
        try spec.write(toFile: repo + "/review.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    static let spec = """
        version: 1
        models: { m: { provider: anthropic, model: claude-test } }
        defaults: { model: m, retries: 0 }
        tools:
          git: { mcp: { command: [python3, -m, mcp_server_git, --repository, .] } }
        stages:
          review:
            tools: [git.git_log, git.git_diff_unstaged]
            prompt: "Review the change."
            output: { schema: { type: object, required: [verdict], properties: { verdict: { type: string } } } }
        output: "{{ review.verdict }}"
        """

    /// What `pipe` is started with: the fake server as the Anthropic API, a key that must
    /// never reach a tool server.
    static func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL,
            "ANTHROPIC_API_KEY": "sk-ant-SECRET", "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
        ]
    }

    @Test func aRunCallsTheRealGitServerAndTheResultsReachTheModel() async throws {
        let folder = try Self.repository(spec: Self.spec)
        let server = FakeLLMServer { request in
            switch request.callNumber {
            case 1: .blocks([.toolUse(name: "git_git_log", input: #"{"repo_path": "."}"#), .toolUse(name: "git_git_diff_unstaged", input: #"{"repo_path": "."}"#)])
            default: .text(#"{"verdict": "fine"}"#)
            }
        }
        try server.start()
        defer { server.stop() }
        let environment = Self.environment(server)
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(
            ["run", "--quiet", "--no-store", "--trace", trace, folder.url.appendingPathComponent("review.yaml").path], stdin: "x",
            environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "fine\n")
        #expect(server.log.count == 2)
        let sent = server.log.last?.request.bodyText ?? ""
        #expect(sent.contains("First notes"))
        #expect(sent.contains("+changed"))
        let events = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        #expect(events.filter { $0["event"] == "execute_tool" }.compactMap { $0["tool"]?.stringValue }.sorted() == ["git.git_diff_unstaged", "git.git_log"])
    }

    @Test func pipeToolsListsTheServersToolsAndPlacesAToolItDoesNotHave() async throws {
        let folder = try Self.repository(spec: Self.spec.replacingOccurrences(of: "git.git_diff_unstaged]", with: "git.git_dif_unstaged]"))
        let result = try await runPipe(["tools", folder.url.appendingPathComponent("review.yaml").path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("git.git_log(repo_path*: string, max_count: integer"))
        #expect(result.stderr.contains("review.yaml:8:26: error: stage `review` names `git.git_dif_unstaged`, but tool server `git` has no tool `git_dif_unstaged` [unknown-tool]"))
        #expect(result.stderr.contains("did you mean `git_diff_unstaged`?"))
        let lint = try await runPipe(["lint", "--tools", folder.url.appendingPathComponent("review.yaml").path])
        #expect(lint.status == 1)
        #expect(lint.stdout.contains("[unknown-tool]"))
    }

    @Test func aMockScriptCallsTheRealTimeServerOffline() async throws {
        let folder = try TemporaryFolder("agent-time")
        let spec = folder.url.appendingPathComponent("clock.yaml").path
        try """
            version: 1
            models: { m: { provider: mock } }
            tools:
              clock: { mcp: { command: [python3, -m, mcp_server_time] } }
            stages:
              now:
                model: m
                tools: [clock.get_current_time]
                prompt: "What time is it in {{ input }}?"
                output: { schema: { type: object, required: [answer], properties: { answer: { type: string } } } }
                mock:
                  - { tool: clock.get_current_time, arguments: { timezone: Europe/Paris } }
                  - { answer: "It is time." }
            output: "{{ now.answer }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(["run", "--mock", "--quiet", "--no-store", "--trace", trace, spec], stdin: "Paris")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "It is time.\n")
        let tool = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .first { $0["event"] == "execute_tool" }
        #expect(tool?["tool"] == "clock.get_current_time")
        #expect(tool?["is_error"] == false)
    }

    /// `pipe batch` (and so `pipe eval` and `pipe worker`) runs tool-using stages: each item's
    /// run starts its tool servers, calls them, stops them, and records its tool calls.
    @Test func aBatchOfToolUsingItemsCallsTheRealTimeServerForEachItem() async throws {
        let folder = try TemporaryFolder("agent-batch")
        let spec = folder.url.appendingPathComponent("clock.yaml").path
        try """
            version: 1
            models: { m: { provider: anthropic, model: claude-test } }
            defaults: { model: m, retries: 0 }
            tools:
              clock: { mcp: { command: [python3, -m, mcp_server_time] } }
            stages:
              now:
                tools: [clock.get_current_time]
                prompt: "What time is it in {{ input }}?"
                output: { schema: { type: object, required: [answer], properties: { answer: { type: string } } } }
            output: "{{ now.answer }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        // Each item's first turn calls the tool; the turn that carries its result answers.
        let server = FakeLLMServer { request in
            request.bodyText.contains("tool_result")
                ? .text(#"{"answer": "It is time."}"#)
                : .blocks([.toolUse(name: "clock_get_current_time", input: #"{"timezone": "Europe/Paris"}"#)])
        }
        try server.start()
        defer { server.stop() }
        let environment = Self.environment(server)
        let input = folder.url.appendingPathComponent("cities.jsonl").path
        try "\"Paris\"\n\"Rome\"\n".write(toFile: input, atomically: true, encoding: .utf8)
        let result = try await runPipe(["batch", "--quiet", spec, "--input", input], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0["status"] == "succeeded" && $0["output"] == "It is time." })
        #expect(server.log.count == 4)
        for run in lines.compactMap({ $0["run"]?.stringValue }) {
            let logs = try await runPipe(["logs", run, "--json"], directory: folder.url)
            let tools = try JSONParser.parse(logs.stdout)["tool_calls"]?.arrayValue ?? []
            #expect(tools.count == 1, "\(logs.stdout.prefix(400))")
            #expect(tools.first?["tool"] == "clock.get_current_time")
            #expect(tools.first?["is_error"] == false)
        }
    }
}
