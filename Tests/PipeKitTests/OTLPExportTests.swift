import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe run` and `pipe batch` exporting spans over OTLP/HTTP to a real receiver that decodes
/// them with the official protobuf definitions (`Tests/testdata/otel/receiver.py`, on the
/// `opentelemetry-proto` package), against the fake LLM server.
@Suite("OpenTelemetry export", .serialized)
final class OTLPExportTests: Sendable {
    static let secret = "sk-ant-OTEL-MARKER-0123456789"
    let folder: TemporaryFolder
    let spec: String
    let server: FakeLLMServer
    /// The first call of `plan` fails with 503 (and every call while this is negative): the second attempt answers.
    let planCalls = Locked(0)

    static let specText = """
        version: 1
        name: otel
        models:
          claude: { provider: anthropic, model: claude-test, price: { input: 1.00, output: 5.00 } }
        defaults: { model: claude, max_tokens: 200, temperature: 0.3, retries: 2, timeout: 5s }
        stages:
          plan:
            prompt: "STAGE plan: {{ input }}"
            output: { schema: { type: object, required: [steps], properties: { steps: { type: array, items: { type: string } } } } }
          each:
            for_each: plan.steps
            prompt: "STAGE each: {{ item }}"
        output:
          each: "{{ each }}"
        """

    init() throws {
        folder = try TemporaryFolder("pipe-otel")
        spec = folder.url.appendingPathComponent("otel.yaml").path
        try Self.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        let planCalls = planCalls
        server = FakeLLMServer { request in
            if request.prompt.contains("STAGE plan") {
                let call = planCalls.withLock { count in
                    count += 1
                    return count
                }
                return call <= 1 ? .error(status: 503, message: "overloaded") : .text(#"{"steps": ["moon", "sun"]}"#)
            }
            return .text("an answer")
        }
        try server.start()
    }

    deinit { server.stop() }

    func environment(_ extra: [String: String]) -> [String: String] {
        var environment = [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": Self.secret,
            "OPENAI_API_KEY": Self.secret, "PIPE_STORE": folder.storePath,
        ]
        environment.merge(extra) { $1 }
        return environment
    }

    static func attribute(_ span: JSONValue, _ key: String) -> JSONValue? { span["attributes"]?[key] }

    @Test func aRunIsOneTraceOfWorkflowAgentAndChatSpansWithTheConventionsAttributes() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(
            ["run", "--quiet", "--trace", trace, spec], stdin: "tides",
            environment: environment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "research",
                "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci,team=tides%20lab",
                "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20collector-token",
            ]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("OpenTelemetry"), "\(result.stderr)")
        let spans = try receiver.spans()
        // The generic endpoint gets /v1/traces; the headers go with every request.
        #expect(spans.allSatisfy { $0["path"] == "/v1/traces" && $0["content_type"] == "application/x-protobuf" })
        #expect(spans.allSatisfy { $0["authorization"] == "Bearer collector-token" })
        #expect(spans.allSatisfy { $0["resource"]?["service.name"] == "research" && $0["resource"]?["team"] == "tides lab" })

        let names = spans.compactMap { $0["name"]?.stringValue }.sorted()
        #expect(names == [
            "chat claude-test", "chat claude-test", "chat claude-test", "chat claude-test",
            "invoke_agent each", "invoke_agent each", "invoke_agent each", "invoke_agent plan", "invoke_workflow otel",
        ])
        // One trace, the one --trace and the store name.
        let traceIDs = Set(spans.compactMap { $0["trace_id"]?.stringValue })
        let traceFile = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(traceIDs.count == 1 && traceIDs.first == traceFile[0]["trace_id"]?.stringValue)
        let logs = try await runPipe(["logs", "last", "--json"], environment: environment([:]))
        #expect(try JSONParser.parse(logs.stdout)["trace_id"]?.stringValue == traceIDs.first)

        let root = try #require(spans.first { $0["name"] == "invoke_workflow otel" })
        #expect(root["parent_span_id"] == "" && root["kind"] == 1)
        #expect(Self.attribute(root, "gen_ai.operation.name") == "invoke_workflow")
        #expect(Self.attribute(root, "pipe.run.id")?.stringValue == traceFile[0]["run_id"]?.stringValue)
        #expect((Self.attribute(root, "pipe.cost_usd")?.doubleValue ?? 0) > 0)
        let agents = spans.filter { $0["name"]?.stringValue?.hasPrefix("invoke_agent") == true }
        #expect(agents.allSatisfy { $0["parent_span_id"] == root["span_id"] && $0["kind"] == 1 })
        #expect(Set(agents.compactMap { Self.attribute($0, "pipe.stage.item")?.intValue }) == [0, 1])
        #expect(agents.allSatisfy { Self.attribute($0, "gen_ai.operation.name") == "invoke_agent" })

        // Each chat span is a CLIENT span under its stage's span.
        let chats = spans.filter { $0["name"] == "chat claude-test" }
        for chat in chats {
            let stage = Self.attribute(chat, "pipe.stage")?.stringValue
            let parent = agents.first { Self.attribute($0, "pipe.stage")?.stringValue == stage }
            #expect(chat["parent_span_id"] == parent?["span_id"] && chat["kind"] == 3)
            #expect(Self.attribute(chat, "gen_ai.operation.name") == "chat")
            #expect(Self.attribute(chat, "gen_ai.provider.name") == "anthropic")
            #expect(Self.attribute(chat, "gen_ai.request.model") == "claude-test")
            #expect(Self.attribute(chat, "gen_ai.request.max_tokens")?.intValue == 200)
            #expect(Self.attribute(chat, "gen_ai.request.temperature")?.doubleValue == 0.3)
            #expect(Self.attribute(chat, "gen_ai.input.messages") == nil && Self.attribute(chat, "gen_ai.output.messages") == nil)
        }
        // The failed first attempt of `plan`: error.type and an error status; the second answers.
        let plan = chats.filter { Self.attribute($0, "pipe.stage") == "plan" }
            .sorted { (Self.attribute($0, "pipe.stage.attempt")?.intValue ?? 0) < (Self.attribute($1, "pipe.stage.attempt")?.intValue ?? 0) }
        #expect(plan.count == 2)
        #expect(Self.attribute(plan[0], "error.type") == "503" && plan[0]["status_code"] == 2)
        #expect(Self.attribute(plan[0], "pipe.stage.attempt")?.intValue == 1)
        #expect(Self.attribute(plan[1], "error.type") == nil && plan[1]["status_code"] == 0)
        #expect(Self.attribute(plan[1], "pipe.stage.attempt")?.intValue == 2)
        #expect(Self.attribute(plan[1], "gen_ai.response.model") == "claude-test")
        // `plan` answers through the output tool the provider forces, `each` in text.
        #expect(Self.attribute(plan[1], "gen_ai.response.finish_reasons") == ["tool_call"])
        #expect(chats.filter { Self.attribute($0, "pipe.stage")?.stringValue?.hasPrefix("each[") == true }
            .allSatisfy { Self.attribute($0, "gen_ai.response.finish_reasons") == ["stop"] })
        #expect((Self.attribute(plan[1], "gen_ai.usage.input_tokens")?.intValue ?? 0) > 0)
        #expect((Self.attribute(plan[1], "gen_ai.usage.output_tokens")?.intValue ?? 0) > 0)
        #expect((Self.attribute(plan[1], "pipe.cost_usd")?.doubleValue ?? 0) > 0)
        // Spans end after they start, children within the run.
        #expect(spans.allSatisfy { ($0["start"]?.intValue ?? 0) <= ($0["end"]?.intValue ?? -1) })
        #expect(!(try receiver.raw()).contains(Self.secret.utf8))
    }

    @Test func httpJSONCarriesTheCallersTraceparentAndContentOnlyWhenAskedWithNoKeyInAnyByte() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let caller = (trace: "4bf92f3577b34da6a3ce929d0e0e4736", span: "00f067aa0ba902b7")
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(
            ["run", "--trace", trace, spec], stdin: "tides",
            environment: environment([
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url + "/custom/traces", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
                "TRACEPARENT": "00-\(caller.trace)-\(caller.span)-01", "TRACESTATE": "vendor=tides",
            ]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains(Self.secret) && !result.stdout.contains(Self.secret))
        let spans = try receiver.spans()
        // The traces endpoint is used as it is.
        #expect(spans.allSatisfy { $0["path"] == "/custom/traces" && $0["content_type"] == "application/json" })
        #expect(spans.allSatisfy { $0["trace_id"]?.stringValue == caller.trace })
        let root = try #require(spans.first { $0["name"] == "invoke_workflow otel" })
        #expect(root["parent_span_id"]?.stringValue == caller.span && root["trace_state"] == "vendor=tides")
        // The trace file and the store carry the caller's trace too.
        let traceFile = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(traceFile.allSatisfy { $0["trace_id"]?.stringValue == caller.trace })
        #expect(traceFile[0]["parent_span_id"]?.stringValue == caller.span)
        let logs = try await runPipe(["logs", "last", "--json"], environment: environment([:]))
        #expect(try JSONParser.parse(logs.stdout)["trace_id"]?.stringValue == caller.trace)

        let answered = try #require(
            spans.first { $0["name"] == "chat claude-test" && Self.attribute($0, "pipe.stage") == "plan" && $0["status_code"] == 0 })
        let input = try JSONParser.parse(try #require(Self.attribute(answered, "gen_ai.input.messages")?.stringValue))
        #expect(input[0]?["role"] == "user" && input[0]?["parts"]?[0]?["content"] == "STAGE plan: tides")
        let output = try JSONParser.parse(try #require(Self.attribute(answered, "gen_ai.output.messages")?.stringValue))
        #expect(output[0]?["parts"]?[0]?["content"] == #"{"steps": ["moon", "sun"]}"#)
        #expect(output[0]?["finish_reason"] == "tool_call")
        #expect(!(try receiver.raw()).contains(Self.secret.utf8))
    }

    @Test func anInvalidTraceparentIsIgnoredWithOneWarning() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let result = try await runPipe(
            ["run", "--quiet", spec], stdin: "tides",
            environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "TRACEPARENT": "00-nothex-00f067aa0ba902b7-01"]))
        #expect(result.status == 0)
        #expect(result.stderr == "pipe: TRACEPARENT `00-nothex-00f067aa0ba902b7-01` is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); ignored, the run starts a trace of its own\n")
        let root = try #require(try receiver.spans().first { $0["name"] == "invoke_workflow otel" })
        #expect(root["parent_span_id"] == "")
    }

    @Test func aDeadCollectorIsOneWarningAndChangesNoExitCode() async throws {
        let port = try closedPort()
        let result = try await runPipe(
            ["run", spec], stdin: "tides", environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"]))
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("OpenTelemetry") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("pipe: OpenTelemetry: spans could not be exported to http://127.0.0.1:\(port)/v1/traces: connection failed") == true)
        #expect(warnings.first?.hasSuffix("spans not exported; the run is not affected)") == true)
        // The same run fails the same way with or without export: exit 1 stays exit 1.
        planCalls.withLock { $0 = -10 }
        let failing = try await runPipe(
            ["run", "--quiet", spec], stdin: "tides", environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"]))
        #expect(failing.status == 1, "\(failing.stderr)")
    }

    @Test func aCollectorThatNeverAnswersHoldsTheExitOnlyUntilTheFlushDeadline() async throws {
        let receiver = try OTLPReceiver(mode: "hang")
        defer { receiver.stop() }
        let result = try await runPipe(
            ["run", "--quiet", spec], stdin: "tides",
            environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_EXPORT_TIMEOUT": "500"]))
        // pipe exited, with its output, while the receiver still holds the request unanswered.
        #expect(result.status == 0)
        #expect(result.stdout.contains("an answer"))
        // The request did reach the receiver, which never answered it.
        for _ in 0..<3000 where !(try receiver.events().contains("hung")) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try receiver.events().contains("hung"))
        #expect(receiver.isRunning)
        let warnings = result.stderr.split(separator: "\n")
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("did not take the last spans within 500ms of the end (OTEL_BSP_EXPORT_TIMEOUT)") == true)
    }

    @Test func grpcIsOneWarningAndDisabledExportsNothing() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let grpc = try await runPipe(
            ["run", "--quiet", spec], stdin: "tides",
            environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"]))
        #expect(grpc.status == 0)
        #expect(grpc.stderr == "pipe: OpenTelemetry: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc is not supported (pipe exports over HTTP only); set http/protobuf or http/json; no spans are exported\n")
        let disabled = try await runPipe(
            ["run", "--quiet", spec], stdin: "tides",
            environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SDK_DISABLED": "true"]))
        #expect(disabled.status == 0 && disabled.stderr.isEmpty)
        #expect(try receiver.spans().isEmpty)
    }

    @Test func aBatchExportsOneTracePerItemWhoseIdsAreTheItemsRuns() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let input = folder.url.appendingPathComponent("items.jsonl").path
        try "\"a\"\n\"b\"\n\"c\"\n".write(toFile: input, atomically: true, encoding: .utf8)
        let result = try await runPipe(
            ["batch", "--mock", "--quiet", spec, "--input", input], environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url]))
        #expect(result.status == 0, "\(result.stderr)")
        let spans = try receiver.spans()
        let roots = spans.filter { $0["name"] == "invoke_workflow otel" }
        #expect(roots.count == 3)
        #expect(Set(roots.compactMap { Self.attribute($0, "pipe.batch.item")?.intValue }) == [0, 1, 2])
        #expect(Set(roots.compactMap { $0["trace_id"]?.stringValue }).count == 3)
        #expect(roots.allSatisfy { $0["parent_span_id"] == "" })
        // Every span is in its item's trace, and that is the trace id the store has for the item's run.
        for root in roots {
            let traceID = try #require(root["trace_id"]?.stringValue)
            let runID = try #require(Self.attribute(root, "pipe.run.id")?.stringValue)
            let logs = try await runPipe(["logs", runID, "--json"], environment: environment([:]))
            #expect(try JSONParser.parse(logs.stdout)["trace_id"]?.stringValue == traceID)
            #expect(spans.filter { $0["trace_id"]?.stringValue == traceID }.allSatisfy { Self.attribute($0, "pipe.run.id")?.stringValue == runID })
        }
    }

    /// `pipe eval` runs its items as a batch: each item's run is exported as its own trace.
    @Test func anEvalExportsATracePerDatasetItem() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let tests = folder.url.appendingPathComponent("otel.test.yaml").path
        try """
            spec: otel.yaml
            evals:
              - name: has-steps
                check: { path: output.each, length: { ">=": 0 } }
            """.write(toFile: tests, atomically: true, encoding: .utf8)
        let dataset = folder.url.appendingPathComponent("golden.jsonl").path
        try #"{"input": "a", "expected": {}}\#n{"input": "b", "expected": {}}\#n"#.write(toFile: dataset, atomically: true, encoding: .utf8)
        let result = try await runPipe(
            ["eval", "--mock", "--quiet", spec, "--dataset", dataset], environment: environment(["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url]))
        #expect(result.status == 0, "\(result.stderr)")
        let roots = try receiver.spans().filter { $0["name"] == "invoke_workflow otel" }
        #expect(roots.count == 2)
        #expect(Set(roots.compactMap { $0["trace_id"]?.stringValue }).count == 2)
    }

    /// A port nothing listens on: bound, then closed.
    func closedPort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// `Tests/testdata/otel/receiver.py`, started for one test on 127.0.0.1.
final class OTLPReceiver: Sendable {
    let folder: URL
    let port: Int
    private let process: Process

    init(mode: String = "ok") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MCPToolServersTests.python)
        process.arguments = [
            Paths.testdata.appendingPathComponent("otel/receiver.py").path, "--out", folder.appendingPathComponent("spans.jsonl").path,
            "--raw", folder.appendingPathComponent("raw").path, "--mode", mode, "--lifetime", "120",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.runUnblocked()
        self.process = process
        let line = output.fileHandleForReading.readLine()
        guard let port = Int(line) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var isRunning: Bool { process.isRunning }

    private func lines() throws -> [JSONValue] {
        let path = folder.appendingPathComponent("spans.jsonl").path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    /// The decoded spans received so far.
    func spans() throws -> [JSONValue] { try lines().filter { $0["name"] != nil } }

    /// What the receiver noted besides spans (`hung`).
    func events() throws -> [String] { try lines().compactMap { $0["event"]?.stringValue } }

    /// Every byte received: headers and bodies.
    func raw() throws -> [UInt8] {
        [UInt8]((try? Data(contentsOf: folder.appendingPathComponent("raw"))) ?? Data())
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: the receiver has nothing to finish (its SIGTERM handler works too, now
            // that tests start their children with no signal blocked: `runUnblocked`).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

extension FileHandle {
    /// The first line written (without its newline), read a byte at a time.
    fileprivate func readLine() -> String {
        var bytes: [UInt8] = []
        // read(2) itself: FileHandle's reads wait for more than they are asked for.
        var byte: UInt8 = 0
        while Foundation.read(fileDescriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension JSONValue {
    fileprivate var intValue: Int? { numberValue?.intValue }
    fileprivate var doubleValue: Double? { numberValue?.doubleValue }
}
