import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// Tool servers in the test's process: each tool answers through `answer`, and every call's
/// start and end is logged in order (no clocks).
final class TestToolServers: ToolServers {
    typealias Answer = @Sendable (_ tool: String, _ arguments: JSONValue) async throws(ToolFailure) -> ToolOutcome

    let listed: [String: [ToolInfo]]
    let answer: Answer
    let events = Locked<[String]>([])
    let calls = Locked<[(tool: String, arguments: JSONValue)]>([])
    let shutdowns = Locked(0)
    let configs = Locked<[String: ToolServerConfig]>([:])

    init(_ listed: [String: [ToolInfo]] = ["kb": TestToolServers.kbTools], answer: @escaping Answer = TestToolServers.echo) {
        self.listed = listed
        self.answer = answer
    }

    static let kbTools = [
        ToolInfo(name: "lookup", description: "Finds a fact.", inputSchema: ["type": "object", "properties": ["q": ["type": "string"]]]),
        ToolInfo(name: "count", description: "Counts words.", inputSchema: ["type": "object"]),
    ]

    static let echo: Answer = { tool, arguments throws(ToolFailure) in
        ToolOutcome(content: "\(tool) says \(arguments.serialized())", isError: false)
    }

    /// The factory a runner is given; it keeps the configs it was made with.
    var factory: PipelineRunner.ToolServersFactory {
        { configs in
            self.configs.withLock { $0 = configs }
            return self
        }
    }

    func tools(of server: String) async throws(ToolFailure) -> [ToolInfo] {
        guard let tools = listed[server] else { throw .unknownServer(server) }
        return tools
    }

    func call(server: String, tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome {
        let name = "\(server).\(tool)"
        events.withLock { $0.append("start \(name)") }
        calls.withLock { $0.append((name, arguments)) }
        defer { events.withLock { $0.append("end \(name)") } }
        return try await answer(name, arguments)
    }

    func shutdown() async {
        shutdowns.withLock { $0 += 1 }
    }
}

/// Lets two callers through once both have arrived: two calls pass only if they run at the
/// same time. A caller alone gives up after a long wait (false), so a sequential run fails
/// the test instead of hanging it.
actor Rendezvous {
    private var arrived = 0
    private var waiting: CheckedContinuation<Bool, Never>?

    func arrive() async -> Bool {
        arrived += 1
        if arrived == 2 {
            waiting?.resume(returning: true)
            waiting = nil
            return true
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(30))
            self.giveUp()
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { waiting = $0 }
    }

    private func giveUp() {
        waiting?.resume(returning: false)
        waiting = nil
    }
}

@Suite("Tools: the tool loop")
struct ToolLoopTests {
    static let apis: [Provider] = [.anthropic, .openai]

    static func spec(_ api: Provider, stage: String = "", budget: String = "", top: String = "") -> String {
        """
        version: 1
        models: { m: { provider: \(api.name), model: test-model } }
        defaults: { model: m, retries: 0 }
        \(budget)
        tools:
          kb: { mcp: { command: [kb-server] } }
        \(top)
        stages:
          answer:
            tools: [kb.lookup, kb.count]
            prompt: "Answer {{ input }}"
            output: { schema: { type: object, properties: { title: { type: string } }, required: [title] } }
        \(stage)
        output: "{{ answer }}"
        """
    }

    static func run(
        _ text: String, api: Provider, server: FakeLLMServer, tools: TestToolServers, environment: [String: String] = [:],
        events: @escaping @Sendable (RunEvent) -> Void = { _ in }
    ) async throws -> PipelineRunner.Result {
        let pipeline = try compileSpec(text)
        var options = PipelineRunner.Options(retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)))
        options.toolServers = tools.factory
        options.environment = environment
        let provider = testProvider(api, server)
        let runner = try PipelineRunner(pipeline: pipeline, options: options) { _ throws(ProviderError) in provider }
        return await runner.run(input: "tides", events: events)
    }

    /// The messages of the server's request `index` (from 0).
    static func messages(_ server: FakeLLMServer, _ index: Int) -> [[String: Any]] {
        server.log[index].request.json?["messages"] as? [[String: Any]] ?? []
    }

    /// The tool results the request `index` sends back, as (content, is an error), in order.
    static func results(_ server: FakeLLMServer, _ index: Int, api: Provider) -> [(String, Bool)] {
        let messages = messages(server, index)
        if api == .anthropic {
            let blocks = messages.compactMap { $0["content"] as? [[String: Any]] }.flatMap { $0 }
            return blocks.filter { $0["type"] as? String == "tool_result" }.map {
                ($0["content"] as? String ?? "", $0["is_error"] as? Bool ?? false)
            }
        }
        return messages.filter { $0["role"] as? String == "tool" }.map {
            let content = $0["content"] as? String ?? ""
            return (content, content.hasPrefix("Error: "))
        }
    }

    static func offeredNames(_ server: FakeLLMServer, _ index: Int) -> [String] {
        (server.log[index].request.json?["tools"] as? [[String: Any]] ?? []).compactMap {
            $0["name"] as? String ?? ($0["function"] as? [String: Any])?["name"] as? String
        }
    }

    @Test(arguments: apis)
    func theToolsResultReachesTheModelWhichThenAnswers(api: Provider) async throws {
        let tools = TestToolServers()
        try await withFakeServer({ request in
            request.callNumber == 1
                ? .blocks([.text("Looking."), .toolUse(name: "kb_lookup", input: #"{"q": "tides"}"#)]) : .text(#"{"title": "Moon"}"#)
        }) { server in
            let result = try await Self.run(Self.spec(api), api: api, server: server, tools: tools)
            guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(output == ["title": "Moon"])
            #expect(server.log.count == 2)
            #expect(Set(Self.offeredNames(server, 0)).isSuperset(of: ["kb_lookup", "kb_count"]))
            let results = Self.results(server, 1, api: api)
            #expect(results.count == 1)
            #expect(results.first?.0 == #"kb.lookup says {"q":"tides"}"#)
            #expect(results.first?.1 == false)
            #expect(tools.calls.withLock { $0.map(\.tool) } == ["kb.lookup"])
            #expect(tools.calls.withLock { $0.first?.arguments } == ["q": "tides"])
            // One set of servers for the run, made from the spec, and stopped when it ended.
            #expect(tools.shutdowns.withLock { $0 } == 1)
            #expect(tools.configs.withLock { $0["kb"]?.transport } == .stdio(command: ["kb-server"]))
            #expect(tools.configs.withLock { $0["kb"]?.workingDirectory } == "/tmp")
        }
    }

    @Test(arguments: apis)
    func theCallsOfOneTurnRunAtOnceAndTheirResultsGoBackInOrder(api: Provider) async throws {
        let meeting = Rendezvous()
        let tools = TestToolServers { tool, _ throws(ToolFailure) in
            let together = await meeting.arrive()
            return ToolOutcome(content: "\(tool) \(together ? "together" : "alone")", isError: false)
        }
        try await withFakeServer({ request in
            request.callNumber == 1
                ? .blocks([.toolUse(name: "kb_lookup", input: #"{"q": "a"}"#), .toolUse(name: "kb_count", input: "{}")])
                : .text(#"{"title": "Both"}"#)
        }) { server in
            let result = try await Self.run(Self.spec(api), api: api, server: server, tools: tools)
            guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(Self.results(server, 1, api: api).map(\.0) == ["kb.lookup together", "kb.count together"])
            // Both started before either ended.
            let events = tools.events.withLock { $0 }
            #expect(events.prefix(2).allSatisfy { $0.hasPrefix("start") })
        }
    }

    @Test(arguments: apis)
    func errorsGoBackToTheModelAsErrorResults(api: Provider) async throws {
        let tools = TestToolServers { tool, _ throws(ToolFailure) in
            if tool == "kb.count" { throw .crashed(server: "kb", detail: "exit 1") }
            return ToolOutcome(content: "no such page", isError: true)
        }
        try await withFakeServer({ request in
            request.callNumber == 1
                ? .blocks([.toolUse(name: "kb_lookup", input: "{}"), .toolUse(name: "kb_count", input: "{}"),
                    .toolUse(name: "web_search", input: "{}")])
                : .text(#"{"title": "Recovered"}"#)
        }) { server in
            let result = try await Self.run(Self.spec(api), api: api, server: server, tools: tools)
            guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(output == ["title": "Recovered"])
            let results = Self.results(server, 1, api: api)
            #expect(results.count == 3)
            #expect(results.allSatisfy { $0.1 })
            #expect(results[0].0.contains("no such page"))
            #expect(results[1].0.contains("tool server 'kb' stopped: exit 1"))
            // A tool not offered: the message names the offered ones, and no server is called for it.
            #expect(results[2].0.contains("no tool `web_search`"))
            #expect(results[2].0.contains("`kb_lookup`"))
            #expect(tools.calls.withLock { $0.map(\.tool) }.sorted() == ["kb.count", "kb.lookup"])
        }
    }

    @Test(arguments: apis)
    func aModelThatNeverAnswersFailsAfterMaxTurnsAndItsRetriesApply(api: Provider) async throws {
        let tools = TestToolServers()
        let stage = "    max_turns: 2\n    retries: 1"
        let text = Self.spec(api).replacingOccurrences(of: "    tools: [kb.lookup, kb.count]", with: "    tools: [kb.lookup, kb.count]\n" + stage)
        try await withFakeServer({ _ in .blocks([.toolUse(name: "kb_lookup", input: "{}")]) }) { server in
            let result = try await Self.run(text, api: api, server: server, tools: tools)
            guard case .stageFailed(let unit, let attempts, let failure) = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(unit.stage == "answer")
            #expect(attempts == 2)
            #expect(failure.description.contains("did not answer within 2 turns"))
            // Two attempts of two turns; each turn's calls ran.
            #expect(server.log.count == 4)
            #expect(tools.calls.withLock { $0.count } == 4)
            #expect(tools.shutdowns.withLock { $0 } == 1)
        }
    }

    @Test func aTurnThatDoesNotFitTheBudgetIsNotSent() async throws {
        let tools = TestToolServers { _, _ throws(ToolFailure) in
            ToolOutcome(content: String(repeating: "x", count: 8_000), isError: false)
        }
        let text = Self.spec(.anthropic, budget: "budget: { max_tokens: 2000 }")
            .replacingOccurrences(of: "defaults: { model: m, retries: 0 }", with: "defaults: { model: m, retries: 0, max_tokens: 100 }")
        try await withFakeServer({ _ in .blocks([.toolUse(name: "kb_lookup", input: "{}")]) }) { server in
            let result = try await Self.run(text, api: .anthropic, server: server, tools: tools)
            guard case .budgetExceeded(let unit, _) = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(unit?.stage == "answer")
            // The first turn fit; the second, with 8,000 characters of results, did not and was not sent.
            #expect(server.log.count == 1)
            #expect(tools.shutdowns.withLock { $0 } == 1)
        }
    }

    /// Ctrl-C cancels the run's task: the tool call in flight is cancelled, and the servers
    /// are stopped all the same.
    @Test func anInterruptedRunStopsItsToolServers() async throws {
        let started = AsyncStream<Void>.makeStream()
        let tools = TestToolServers { _, _ throws(ToolFailure) in
            started.continuation.yield()
            try? await Task.sleep(for: .seconds(600))
            return ToolOutcome(content: "late", isError: false)
        }
        try await withFakeServer({ _ in .blocks([.toolUse(name: "kb_lookup", input: "{}")]) }) { server in
            let run = Task { try await Self.run(Self.spec(.anthropic), api: .anthropic, server: server, tools: tools) }
            for await _ in started.stream { break }
            run.cancel()
            let result = try await run.value
            guard case .interrupted = result.outcome else { Issue.record("\(result.outcome)"); return }
            #expect(tools.shutdowns.withLock { $0 } == 1)
        }
    }

    @Test func everyToolCallIsAnEventAndATraceLine() async throws {
        let tools = TestToolServers()
        let seen = Locked<[ToolCallRecord]>([])
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("tools-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let writer = try TraceWriter(path: trace, runID: "run-1", traceID: TraceIDs.traceID())
        try await withFakeServer({ request in
            request.callNumber == 1 ? .blocks([.toolUse(name: "kb_lookup", input: #"{"q": "x"}"#)]) : .text(#"{"title": "T"}"#)
        }) { server in
            let result = try await Self.run(Self.spec(.anthropic), api: .anthropic, server: server, tools: tools) { event in
                writer.record(event)
                if case .toolCallFinished(let call) = event { seen.withLock { $0.append(call) } }
            }
            guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
        }
        try writer.runEnded(status: .succeeded, wall: .zero, usage: .zero, costUSD: 0)
        let call = try #require(seen.withLock { $0.first })
        #expect(call.stage == "answer")
        #expect(call.turn == 1)
        #expect(call.attempt == 1)
        #expect(call.tool == "kb.lookup")
        #expect(call.arguments == ["q": "x"])
        #expect(call.resultCharacters == #"kb.lookup says {"q":"x"}"#.count)
        #expect(!call.isError)
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        let tool = try #require(lines.first { $0["event"] == "execute_tool" })
        #expect(tool["tool"] == "kb.lookup")
        #expect(tool["turn"] == 1)
        let schema = try JSONSchema(compiling: JSONParser.parse(String(contentsOf: Paths.root.appendingPathComponent("schemas/trace-event.schema.json"), encoding: .utf8)))
        for line in lines { #expect(schema.validate(line, maxErrors: 3).isEmpty, "\(line)") }
    }

    @Test func anUnsetVariableOfAServersEnvStopsTheRunNamingTheServer() async throws {
        let tools = TestToolServers()
        let text = Self.spec(.anthropic).replacingOccurrences(
            of: "kb: { mcp: { command: [kb-server] } }",
            with: #"kb: { mcp: { command: [kb-server] }, env: { TOKEN: "${KB_TOKEN}", MODE: "read-only" } }"#)
        try await withFakeServer({ _ in .text(#"{"title": "T"}"#) }) { server in
            let failed = try await Self.run(text, api: .anthropic, server: server, tools: tools)
            guard case .stageFailed(_, _, let failure) = failed.outcome else { Issue.record("\(failed.outcome)"); return }
            #expect(failure.description.contains("tool server `kb` needs the environment variable KB_TOKEN"))
            #expect(server.log.isEmpty)
            let result = try await Self.run(text, api: .anthropic, server: server, tools: tools, environment: ["KB_TOKEN": "t0k", "ANTHROPIC_API_KEY": "sk-x"])
            guard case .succeeded = result.outcome else { Issue.record("\(result.outcome)"); return }
            // Only what `env` names, expanded; never the key.
            #expect(tools.configs.withLock { $0["kb"]?.environment } == ["TOKEN": "t0k", "MODE": "read-only"])
        }
    }

    @Test func aMockScriptCallsTheRealToolsThenAnswers() async throws {
        let tools = TestToolServers()
        let text = Self.spec(.mock).replacingOccurrences(of: "model: test-model", with: "model: mock-model") + """

            """
        let scripted = text.replacingOccurrences(
            of: "    prompt: \"Answer {{ input }}\"",
            with: "    prompt: \"Answer {{ input }}\"\n    mock: [{ tool: kb.lookup, arguments: { q: tides } }, { title: Scripted }]")
        let pipeline = try compileSpec(scripted)
        var options = PipelineRunner.Options()
        options.toolServers = tools.factory
        let provider = MockProvider(replies: Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.mockReplies) }))
        let runner = try PipelineRunner(pipeline: pipeline.mocked(), options: options) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "tides")
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output == ["title": "Scripted"])
        #expect(tools.calls.withLock { $0.map(\.tool) } == ["kb.lookup"])
        #expect(tools.calls.withLock { $0.first?.arguments } == ["q": "tides"])
        // Without a script, --mock answers without tools: no server is started.
        let plain = try compileSpec(text).mocked()
        #expect(!plain.usesTools)
    }

    @Test func apiNamesAreSafeAndUnique() {
        #expect(ToolNames.apiName(server: "git", tool: "git_log", avoiding: []) == "git_git_log")
        #expect(ToolNames.apiName(server: "web", tool: "search.v2", avoiding: []) == "web_search_v2")
        #expect(ToolNames.apiName(server: "a", tool: "b", avoiding: ["a_b"]) == "a_b_2")
        let long = ToolNames.apiName(server: "s", tool: String(repeating: "t", count: 100), avoiding: [])
        #expect(long.count == 64)
        #expect(ToolReference(parsing: "git.git_log") == ToolReference(server: "git", tool: "git_log"))
        #expect(ToolReference(parsing: "git") == ToolReference(server: "git"))
        for bad in ["", ".x", "git.", "a b"] { #expect(ToolReference(parsing: bad) == nil) }
    }

    @Test func theWorstCaseCountsEveryTurnAndItsResults() throws {
        let pipeline = try compileSpec(
            Self.spec(.anthropic).replacingOccurrences(of: "kb: { mcp: { command: [kb-server] } }", with: "kb: { mcp: { command: [kb-server] }, max_result_chars: 400 }")
                .replacingOccurrences(of: "    tools: [kb.lookup, kb.count]", with: "    tools: [kb.lookup, kb.count]\n    max_turns: 3"))
        let plan = DryRunPlan.render(pipeline)
        // 3 turns: input grows by max_tokens (1024) and 2 results of 400 characters (200 tokens) a turn.
        let stage = try #require(pipeline.stage(named: "answer"))
        let prompt = WorstCase.promptTokens(stage.templates, outputSchema: stage.outputSchema) { _ in nil }
        let expected = 3 * prompt + (1024 + 200) * 3 + 3 * 1024
        #expect(plan.contains(" \(expected) "), "\(plan)")
        #expect(plan.contains("tools: answer offers kb.lookup, kb.count, counted at 3 turns an attempt"))
    }
}

/// Agent stages in the run store: every tool call is a row `pipe logs` shows, and a finished
/// agent stage is reused on resume without calling its model or its tools again.
@Suite struct ToolRecordsTests {
    static let spec = """
        version: 1
        models: { m: { provider: anthropic, model: test-model } }
        defaults: { model: m, retries: 0 }
        tools:
          kb: { mcp: { command: [kb-server] } }
        stages:
          research:
            tools: [kb]
            prompt: "Research {{ input }}"
            output: { schema: { type: object, properties: { title: { type: string } }, required: [title] } }
          write:
            prompt: "Write about {{ research.title }}"
        output: "{{ write }}"
        """

    func run(_ server: FakeLLMServer, store: RunStore, tools: TestToolServers, resuming: String? = nil) async throws
        -> (id: String, result: PipelineRunner.Result)
    {
        let pipeline = try compileSpec(Self.spec)
        let id = try await store.startRun(StoreSamples.newRun(input: "tides", resumedFrom: resuming))
        let journal = store.journal(runID: id, reusingFrom: resuming)
        var options = PipelineRunner.Options(retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)), journal: journal)
        options.toolServers = tools.factory
        let provider = testProvider(.anthropic, server)
        let runner = try PipelineRunner(pipeline: pipeline, options: options) { _ throws(ProviderError) in provider }
        let result = await runner.run(input: "tides")
        _ = await journal.flush()
        try await store.finishRun(id, RunEnd(result))
        return (id, result)
    }

    @Test func toolCallsAreRecordedAndAFinishedAgentStageIsReusedOnResume() async throws {
        let folder = try TemporaryFolder()
        let store = try RunStore(path: folder.storePath)
        let tools = TestToolServers()
        let writerFails = Locked(true)
        try await withFakeServer({ request in
            if request.prompt.contains("Write about") {
                return writerFails.withLock { $0 } ? FakeReply.error(status: 400) : .text("An article.")
            }
            return request.callNumber == 1
                ? .blocks([.toolUse(name: "kb_lookup", input: #"{"q": "tides"}"#), .toolUse(name: "kb_missing", input: "{}")])
                : .text(#"{"title": "Moon"}"#)
        }) { server in
            let first = try await run(server, store: store, tools: tools)
            guard case .stageFailed(let unit, _, _) = first.result.outcome else { Issue.record("\(first.result.outcome)"); return }
            #expect(unit.stage == "write")
            let detail = try #require(try await store.run(first.id))
            #expect(detail.toolCalls.map(\.tool) == ["kb.lookup", "kb_missing"])
            #expect(detail.toolCalls.map(\.turn) == [1, 1])
            #expect(detail.toolCalls.first?.arguments == ["q": "tides"])
            #expect(detail.toolCalls.first?.isError == false)
            #expect(detail.toolCalls.last?.isError == true)
            #expect(detail.toolCalls.last?.error?.contains("no tool `kb_missing`") == true)
            #expect(detail.calls.filter { $0.stage == "research" }.map(\.status) == [.turn, .ok])
            let text = RunLogText(directory: "/tmp").detail(detail)
            #expect(text.contains("kb.lookup"))
            #expect(RunLogJSON.detail(detail)["tool_calls"]?.arrayValue?.count == 2)

            writerFails.withLock { $0 = false }
            let researchCalls = server.log.count - 1
            let resumed = try await run(server, store: store, tools: tools, resuming: first.id)
            guard case .succeeded(let output) = resumed.result.outcome else { Issue.record("\(resumed.result.outcome)"); return }
            #expect(output == "An article.")
            // Only the writer was called again: the agent stage's value was reused, its tools not run again.
            #expect(server.log.count == researchCalls + 1 + 1)
            #expect(tools.calls.withLock { $0.count } == 1)
            #expect(resumed.result.stages.first { $0.unit.stage == "research" }?.status == .reused)
        }
    }
}

/// `pipe tools` and `pipe lint --tools`: what the servers list against what the stages name.
@Suite struct ToolCatalogTests {
    static let spec = """
        version: 1
        models: { m: { provider: mock } }
        defaults: { model: m }
        tools:
          kb: { mcp: { command: [kb-server] } }
          web: { mcp: { url: "http://127.0.0.1:9/mcp" } }
        stages:
          answer:
            tools: [kb.lookup, kb.lokup, web.search]
            prompt: "Answer {{ input }}"
        """

    @Test func aToolTheServerDoesNotListAndAServerThatFailsAreDiagnosticsAtTheirPlaces() async throws {
        let pipeline = try compileSpec(Self.spec)
        let listings = await ToolCatalog.list(pipeline, servers: TestToolServers())
        #expect(listings.map(\.server) == ["kb", "web"])
        let diagnostics = ToolCatalog.diagnostics(pipeline, listings: listings)
        #expect(diagnostics.map(\.rule) == [.toolServer, .unknownTool])
        // `web` is not a server the test implementation knows: it could not list its tools.
        #expect(diagnostics[0].span.start.line == 6 && diagnostics[0].span.start.column == 3)
        #expect(diagnostics[0].message.contains("'web'"))
        #expect(diagnostics[1].span.start.line == 9 && diagnostics[1].span.start.column == 24)
        #expect(diagnostics[1].message == "stage `answer` names `kb.lokup`, but tool server `kb` has no tool `lokup`")
        #expect(diagnostics[1].hint == "did you mean `lookup`?")
        let text = ToolCatalog.text(listings)
        #expect(text.contains("kb: 2 tools\n  kb.lookup(q: string)  Finds a fact.\n  kb.count()  Counts words.\n"))
        #expect(text.contains("web: could not list its tools: no tool server named 'web'"))
        #expect(ToolCatalog.json(listings)[0]?["tools"]?[0]?["input_schema"] == TestToolServers.kbTools[0].inputSchema)
    }

    /// A server that cannot start is a `tool-server` error at its declaration (exit 1);
    /// `--mock` without scripted tool calls starts no server.
    @Test func aServerThatCannotStartIsADiagnosticAndMockRunsNeedNone() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("agent.yaml").path
        try Self.spec.replacingOccurrences(of: "kb.lokup, web.search", with: "kb.count").write(toFile: spec, atomically: true, encoding: .utf8)
        let tools = try await runPipe(["tools", spec])
        #expect(tools.status == 1)
        #expect(tools.stderr.contains("agent.yaml:5:3: error: tool server 'kb' could not start"), "\(tools.stderr)")
        #expect(tools.stderr.contains("[tool-server]"))
        let mocked = try await runPipe(["run", "--mock", "--no-store", "--quiet", spec], stdin: "tides")
        #expect(mocked.status == 0, "\(mocked.stderr)")
        #expect(mocked.stdout.contains("Mock output of stage answer"))
    }
}
