import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// What `OTLPExportTests` leaves out, against the same receiver (`OTLPReceiver`, decoding with
/// the official protobuf definitions): `execute_tool` spans of a stage using the real MCP git
/// server, `gen_ai.response.model` as the provider's reply names it, and `pipe worker`
/// exporting each item's run as a trace of its own, as `pipe batch` does.
@Suite("OpenTelemetry export: tools, the response model, pipe worker", .serialized)
struct OTLPToolsWorkerTests {
    static let secret = "sk-ant-OTEL-TOOLS-0123456789"

    static func attribute(_ span: JSONValue, _ key: String) -> JSONValue? { span["attributes"]?[key] }

    /// The first turn calls two git tools and one the stage was not offered; the second answers.
    static func toolServer() -> FakeLLMServer {
        FakeLLMServer { request in
            switch request.callNumber {
            case 1:
                .blocks([
                    .toolUse(name: "git_git_log", input: #"{"repo_path": "."}"#),
                    .toolUse(name: "git_git_push", input: #"{"repo_path": "."}"#),
                ])
            default: .text(#"{"verdict": "fine"}"#)
            }
        }
    }

    func runTools(capture: Bool) async throws -> [JSONValue] {
        let folder = try AgentEndToEndTests.repository(spec: AgentEndToEndTests.spec)
        let server = Self.toolServer()
        try server.start()
        defer { server.stop() }
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL,
            "ANTHROPIC_API_KEY": Self.secret, "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        ]
        if capture { environment["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true" }
        let result = try await runPipe(
            ["run", "--quiet", "--no-store", folder.url.appendingPathComponent("review.yaml").path], stdin: "x", environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!(try receiver.raw()).contains(Self.secret.utf8))
        return try receiver.spans()
    }

    @Test func toolCallsAreExecuteToolSpansUnderTheirStageWithTheirCallIdsAndErrors() async throws {
        let spans = try await runTools(capture: false)
        let agent = try #require(spans.first { $0["name"] == "invoke_agent review" })
        let chats = spans.filter { $0["name"] == "chat claude-test" }
        #expect(chats.count == 2)
        let tools = spans.filter { $0["name"]?.stringValue?.hasPrefix("execute_tool ") == true }
        #expect(tools.compactMap { $0["name"]?.stringValue }.sorted() == ["execute_tool git.git_log", "execute_tool git_git_push"])
        for tool in tools {
            // Siblings of the chat spans, under the stage's invoke_agent span, in the run's trace.
            #expect(tool["parent_span_id"] == agent["span_id"] && tool["trace_id"] == agent["trace_id"])
            #expect(tool["kind"] == 1)
            #expect(Self.attribute(tool, "gen_ai.operation.name") == "execute_tool")
            #expect(Self.attribute(tool, "pipe.stage.attempt")?.numberValue?.intValue == 1)
            // No content without OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT.
            #expect(Self.attribute(tool, "gen_ai.tool.call.arguments") == nil && Self.attribute(tool, "gen_ai.tool.call.result") == nil)
        }
        let log = try #require(tools.first { $0["name"] == "execute_tool git.git_log" })
        #expect(Self.attribute(log, "gen_ai.tool.name") == "git.git_log")
        // The ids the fake server gave the calls of its first reply.
        #expect(Self.attribute(log, "gen_ai.tool.call.id") == "toolu_fake_1")
        #expect(Self.attribute(log, "error.type") == nil && log["status_code"] == 0)
        let push = try #require(tools.first { $0["name"] == "execute_tool git_git_push" })
        #expect(Self.attribute(push, "gen_ai.tool.name") == "git_git_push")
        #expect(Self.attribute(push, "gen_ai.tool.call.id") == "toolu_fake_1_1")
        #expect(Self.attribute(push, "error.type") == "tool_failed" && push["status_code"] == 2)
        // The tool ran after the turn that asked for it and before the answer.
        let (turn, answer) = (chats.min { $0["start"]?.numberValue?.intValue ?? 0 < $1["start"]?.numberValue?.intValue ?? 0 }, chats.max { $0["start"]?.numberValue?.intValue ?? 0 < $1["start"]?.numberValue?.intValue ?? 0 })
        #expect(Self.attribute(try #require(turn), "gen_ai.response.finish_reasons") == ["tool_call"])
        #expect((log["start"]?.numberValue?.intValue ?? 0) >= (turn?["end"]?.numberValue?.intValue ?? .max))
        #expect((log["end"]?.numberValue?.intValue ?? .max) <= (answer?["start"]?.numberValue?.intValue ?? 0))
    }

    @Test func toolArgumentsAndResultsAreExportedOnlyWhenContentIsCaptured() async throws {
        let spans = try await runTools(capture: true)
        let log = try #require(spans.first { $0["name"] == "execute_tool git.git_log" })
        let arguments = try JSONParser.parse(try #require(Self.attribute(log, "gen_ai.tool.call.arguments")?.stringValue))
        #expect(arguments == ["repo_path": "."])
        #expect(Self.attribute(log, "gen_ai.tool.call.result")?.stringValue?.contains("First notes") == true)
        let push = try #require(spans.first { $0["name"] == "execute_tool git_git_push" })
        #expect(Self.attribute(push, "gen_ai.tool.call.result")?.stringValue?.contains("there is no tool `git_git_push`") == true)
    }

    /// The APIs answer with the model that served the request, often a dated version of the
    /// alias asked for: the span says both.
    @Test func theResponseModelIsTheOneTheProvidersReplyNames() async throws {
        let folder = try TemporaryFolder("pipe-otel-model")
        let spec = folder.url.appendingPathComponent("models.yaml").path
        try """
            version: 1
            models:
              claude: { provider: anthropic, model: claude-test }
              gpt: { provider: openai, model: gpt-test }
            defaults: { retries: 0 }
            stages:
              first: { model: claude, prompt: "STAGE first {{ input }}" }
              second: { model: gpt, prompt: "STAGE second {{ first }}" }
              third: { model: claude, prompt: "STAGE third {{ second }}", output: { schema: { type: object, properties: { a: { type: string } } } } }
            output: "{{ third }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let server = FakeLLMServer { request in
            if request.prompt.contains("STAGE first") { return .text("one").answered(by: "claude-test-20261203") }
            if request.prompt.contains("STAGE second") { return .text("two").answered(by: "gpt-test-2026-12-03") }
            // Not streamed: the whole message names the model.
            return .text(#"{"a": "b"}"#).answered(by: "claude-test-20261204").unstreamed()
        }
        try server.start()
        defer { server.stop() }
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let result = try await runPipe(
            ["run", "--quiet", "--no-store", spec], stdin: "x",
            environment: [
                "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
                "ANTHROPIC_API_KEY": Self.secret, "OPENAI_API_KEY": Self.secret, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let chats = try receiver.spans().filter { Self.attribute($0, "gen_ai.operation.name") == "chat" }
        func chat(_ stage: String) -> JSONValue? { chats.first { Self.attribute($0, "pipe.stage")?.stringValue == stage } }
        #expect(Self.attribute(try #require(chat("first")), "gen_ai.request.model") == "claude-test")
        #expect(Self.attribute(try #require(chat("first")), "gen_ai.response.model") == "claude-test-20261203")
        #expect(Self.attribute(try #require(chat("second")), "gen_ai.request.model") == "gpt-test")
        #expect(Self.attribute(try #require(chat("second")), "gen_ai.response.model") == "gpt-test-2026-12-03")
        #expect(Self.attribute(try #require(chat("third")), "gen_ai.response.model") == "claude-test-20261204")
    }

    /// Items a worker runs are exported as `pipe batch`'s are: a trace per item, the one the
    /// item's run has in the database; with TRACEPARENT, children of the caller's span.
    @Test func aWorkerExportsATracePerItemAndContinuesTheCallersTrace() async throws {
        let url = try await PostgresServer.shared().database()
        let folder = try TemporaryFolder("pipe-otel-worker")
        let spec = folder.url.appendingPathComponent("classify.yaml").path
        try BatchCommandTests.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        let input = folder.url.appendingPathComponent("items.jsonl").path
        try #"{"id": "1", "text": "t"}\#n{"id": "2", "text": "t"}\#n"#.write(toFile: input, atomically: true, encoding: .utf8)
        let server = FakeLLMServer(handler: BatchCommandTests.reply)
        try server.start()
        defer { server.stop() }
        let base = ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": Self.secret]
        let database = try await PostgresClient.open(url: url)

        func work(_ extra: [String: String]) async throws -> [JSONValue] {
            let submitted = try await runPipe(["batch", spec, "--input", input, "--queue", url, "--no-work"], environment: base)
            #expect(submitted.status == 0, "\(submitted.stderr)")
            let receiver = try OTLPReceiver()
            defer { receiver.stop() }
            let worker = try await runPipe(
                ["worker", "--queue", url, "--exit-when-idle"],
                environment: base.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url]) { $1 }.merging(extra) { $1 })
            #expect(worker.status == 0, "\(worker.stderr)")
            #expect(!(try receiver.raw()).contains(Self.secret.utf8))
            return try receiver.spans()
        }

        let spans = try await work([:])
        let roots = spans.filter { $0["name"] == "invoke_workflow classify" }
        #expect(roots.count == 2)
        #expect(Set(roots.compactMap { Self.attribute($0, "pipe.batch.item")?.numberValue?.intValue }) == [0, 1])
        #expect(Set(roots.compactMap { $0["trace_id"]?.stringValue }).count == 2)
        #expect(roots.allSatisfy { $0["parent_span_id"] == "" })
        for root in roots {
            let traceID = try #require(root["trace_id"]?.stringValue)
            let runID = try #require(Self.attribute(root, "pipe.run.id")?.stringValue)
            // The trace id the database has for the item's run.
            let stored = try await database.withConnection { connection throws(PostgresError) in
                try connection.query("SELECT trace_id FROM runs WHERE id = $1", [runID]).first?["trace_id"]
            }
            #expect(stored == traceID)
            // Each trace holds the item's GenAI spans: the stage and its call.
            let trace = spans.filter { $0["trace_id"]?.stringValue == traceID }
            let agent = try #require(trace.first { $0["name"] == "invoke_agent classify" })
            #expect(agent["parent_span_id"] == root["span_id"])
            let chat = try #require(trace.first { $0["name"] == "chat claude-test" })
            #expect(chat["parent_span_id"] == agent["span_id"] && Self.attribute(chat, "gen_ai.provider.name") == "anthropic")
        }

        let caller = (trace: "4bf92f3577b34da6a3ce929d0e0e4736", span: "00f067aa0ba902b7")
        let continued = try await work(["TRACEPARENT": "00-\(caller.trace)-\(caller.span)-01"])
        let children = continued.filter { $0["name"] == "invoke_workflow classify" }
        #expect(children.count == 2)
        #expect(children.allSatisfy { $0["parent_span_id"]?.stringValue == caller.span })
        #expect(continued.allSatisfy { $0["trace_id"]?.stringValue == caller.trace })
    }
}
