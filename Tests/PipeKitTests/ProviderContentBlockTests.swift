import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// Messages and replies as content blocks: the answer is the output tool's input, found by
/// its name; other tools' calls are blocks of the reply, never the answer; requests carry
/// tool calls and results as each API documents them, and text-only requests are unchanged.
@Suite("Provider: content blocks")
struct ProviderContentBlockTests {
    static let schema: JSONValue = [
        "type": "object", "properties": ["title": ["type": "string"]], "required": ["title"], "additionalProperties": false,
    ]
    static let lookup = ToolDefinition(
        name: "lookup", description: "Finds a word.", inputSchema: ["type": "object", "properties": ["q": ["type": "string"]]])

    /// Each API, streamed and as one JSON body.
    static let shapes: [(Provider, streamed: Bool)] = [(.anthropic, true), (.anthropic, false), (.openai, true), (.openai, false)]

    static func reply(_ blocks: [FakeReply.Block], streamed: Bool) -> FakeReply {
        let reply = FakeReply.blocks(blocks).streamed(every: .zero, deltaSize: 4)
        return streamed ? reply : reply.unstreamed()
    }

    @Test(arguments: shapes)
    func theAnswerIsTheOutputToolFoundByNameAfterAnotherToolCall(api: Provider, streamed: Bool) async throws {
        let blocks: [FakeReply.Block] = [
            .text("Let me look."), .toolUse(name: "lookup", input: #"{"q": "tides"}"#), .toolUse(name: "greet", input: #"{"title": "Tides"}"#),
        ]
        try await withFakeServer({ _ in Self.reply(blocks, streamed: streamed) }) { server in
            var request = testRequest(api, schema: Self.schema)
            request.tools = [Self.lookup]
            let reply = try await call(testProvider(api, server), request).0.get()
            #expect(parsed(reply.answerText) == ["title": "Tides"])
            #expect(reply.stopReason == .toolUse)
            #expect(reply.content.count == 3)
            #expect(reply.content.first == .text("Let me look."))
            #expect(reply.toolUses.map(\.name) == ["lookup", "greet"])
            #expect(reply.toolUses.first?.input == ["q": "tides"])
            #expect(reply.toolUses.first?.id.isEmpty == false)
        }
    }

    @Test(arguments: shapes)
    func aReplyCallingOnlyAToolNotOfferedIsNoAnswer(api: Provider, streamed: Bool) async throws {
        try await withFakeServer({ _ in Self.reply([.toolUse(name: "lookup", input: #"{"q": "x"}"#)], streamed: streamed) }) { server in
            let error = await call(testProvider(api, server), testRequest(api, schema: Self.schema)).0.failure
            guard case .invalidResponse(let message) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.contains("`lookup`"))
            #expect(message.contains("`greet`"))
            #expect(error?.isTransient == true)
        }
    }

    @Test(arguments: shapes)
    func aReplyCallingOfferedToolsIsATurn(api: Provider, streamed: Bool) async throws {
        try await withFakeServer({ _ in Self.reply([.toolUse(name: "lookup", input: #"{"q": "x"}"#)], streamed: streamed) }) { server in
            var request = testRequest(api)
            request.tools = [Self.lookup]
            let reply = try await call(testProvider(api, server), request).0.get()
            #expect(reply.answerText == "")
            #expect(reply.stopReason == .toolUse)
            #expect(reply.toolUses.map(\.name) == ["lookup"])
            #expect(reply.toolUses.first?.input == ["q": "x"])
        }
    }

    /// A stage whose model first calls a tool it was not given, then answers: the first reply
    /// is retried like any malformed reply, and the stage's value is the second.
    @Test func theRunAsksAgainAfterAReplyCallingAnotherTool() async throws {
        let pipeline = try compileSpec(
            """
            version: 1
            models: { m: { provider: anthropic, model: claude-test } }
            defaults: { model: m, retries: 1 }
            stages:
              greet:
                prompt: "Title for {{ input }}"
                output: { schema: { type: object, properties: { title: { type: string } }, required: [title] } }
            output: "{{ greet }}"
            """)
        let server = FakeLLMServer(script: [.blocks([.toolUse(name: "lookup", input: "{}")]), .text(#"{"title": "Tides"}"#)])
        _ = try server.start()
        defer { server.stop() }
        let provider = AnthropicProvider(baseURL: server.baseURL, apiKey: nil)
        let result = try await run(pipeline, input: "tides", provider: provider, retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)))
        guard case .succeeded(let output) = result.outcome else { Issue.record("\(result.outcome)"); return }
        #expect(output == ["title": "Tides"])
        #expect(server.log.count == 2)
        // Asked again as it was first asked: the other tool's input was never taken for a value
        // to correct (a re-ask for a wrong value adds the value and the errors to the messages).
        let retried = try #require(server.log.last?.request.json?["messages"] as? [[String: Any]])
        #expect(retried.count == 1)
    }

    // MARK: - Requests

    static let conversation = [
        ChatMessage(.user, "Find tides."),
        ChatMessage(.assistant, [.text("Looking."), .toolUse(id: "call_1", name: "lookup", input: ["q": "tides"])]),
        ChatMessage(.user, [.toolResult(toolUseID: "call_1", content: "Tides are caused by the moon.", isError: false),
            .toolResult(toolUseID: "call_2", content: "no such page", isError: true), .text("Go on.")]),
    ]

    func blockRequest(_ api: Provider) -> ModelRequest {
        var request = testRequest(api)
        request.messages = Self.conversation
        request.tools = [Self.lookup]
        return request
    }

    @Test func anthropicRequestsCarryToolUseAndToolResultBlocks() throws {
        let body = AnthropicRequestBody.make(blockRequest(.anthropic), schema: ObjectRootSchema(Self.schema))
        #expect(body["messages"] == [
            ["role": "user", "content": "Find tides."],
            ["role": "assistant", "content": [
                ["type": "text", "text": "Looking."], ["type": "tool_use", "id": "call_1", "name": "lookup", "input": ["q": "tides"]],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "call_1", "content": "Tides are caused by the moon."],
                ["type": "tool_result", "tool_use_id": "call_2", "content": "no such page", "is_error": true],
                ["type": "text", "text": "Go on."],
            ]],
        ])
        #expect(body["tools"]?[0] == ["name": "lookup", "description": "Finds a word.", "input_schema": Self.lookup.inputSchema])
        #expect(body["tools"]?[1]?["name"] == "greet")
        // With tools of its own, the model may call them or answer through the output tool.
        #expect(body["tool_choice"] == ["type": "any"])
    }

    @Test func openAIRequestsCarryToolCallsAndToolMessages() throws {
        let body = OpenAIRequestBody.make(blockRequest(.openai), schema: nil, baseURL: OpenAIProvider.defaultBaseURL)
        #expect(body["messages"] == [
            ["role": "system", "content": "You are terse."],
            ["role": "user", "content": "Find tides."],
            ["role": "assistant", "content": "Looking.", "tool_calls": [
                ["id": "call_1", "type": "function", "function": ["name": "lookup", "arguments": #"{"q":"tides"}"#]],
            ]],
            ["role": "tool", "tool_call_id": "call_1", "content": "Tides are caused by the moon."],
            ["role": "tool", "tool_call_id": "call_2", "content": "Error: no such page"],
            ["role": "user", "content": "Go on."],
        ])
        #expect(body["tools"] == [
            ["type": "function", "function": ["name": "lookup", "description": "Finds a word.", "parameters": Self.lookup.inputSchema]],
        ])
        let calls = OpenAIRequestBody.messages(of: ChatMessage(.assistant, [.toolUse(id: "c", name: "lookup", input: [:])]))
        #expect(calls.first?["content"] == .null)
    }

    /// The bodies of text-only requests, byte for byte as before messages had blocks.
    @Test func textOnlyRequestBodiesAreUnchanged() {
        var request = testRequest(.anthropic, temperature: 0.5)
        request.messages.append(ChatMessage(.assistant, "Hi."))
        #expect(AnthropicRequestBody.make(request, schema: nil).serialized() == #"""
            {"model":"claude-test","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"Say hello."},{"role":"assistant","content":"Hi."}],"temperature":0.5,"stream":true}
            """#)
        let structured = testRequest(.anthropic, schema: ["type": "string"])
        #expect(AnthropicRequestBody.make(structured, schema: ObjectRootSchema(["type": "string"])).serialized() == #"""
            {"model":"claude-test","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"Say hello."}],"tools":[{"name":"greet","description":"Return the output of the stage `greet`. The input is the output itself and must match the schema.","input_schema":{"type":"object","properties":{"value":{"type":"string"}},"required":["value"]}}],"tool_choice":{"type":"tool","name":"greet"},"stream":true}
            """#)
        #expect(OpenAIRequestBody.make(testRequest(.openai), schema: nil, baseURL: "http://127.0.0.1:1/v1").serialized() == #"""
            {"model":"gpt-test","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"max_tokens":256,"stream":true,"stream_options":{"include_usage":true}}
            """#)
    }

    /// The cache key and the stored request of a text-only call are what they were, so the
    /// calls of existing stores are still found by `--cache`.
    @Test func textOnlyCacheKeysAndRecordsAreUnchanged() {
        let request = testRequest(.anthropic, temperature: 0.5)
        let before = SHA256.hex(
            ["call", "anthropic", "claude-test", "-", "256", "0.5", "You are terse.", "user:Say hello.", "text"].joined(separator: "\u{1F}"))
        #expect(Fingerprint.call(request) == before)
        #expect(RequestRecord.json(request).serialized() == #"""
            {"provider":"anthropic","model":"claude-test","system":"You are terse.","messages":[{"role":"user","content":"Say hello."}],"max_tokens":256,"temperature":0.5}
            """#)

        let blocks = blockRequest(.anthropic)
        var withoutTools = blocks
        withoutTools.tools = []
        #expect(Fingerprint.call(blocks) != Fingerprint.call(withoutTools))
        var otherResult = blocks
        otherResult.messages[2].content[0] = .toolResult(toolUseID: "call_1", content: "Tides are caused by the sun.", isError: false)
        #expect(Fingerprint.call(blocks) != Fingerprint.call(otherResult))
        let stored = RequestRecord.json(blocks)
        #expect(stored["messages"]?[1]?["content"]?[1] == ["type": "tool_use", "id": "call_1", "name": "lookup", "input": ["q": "tides"]])
        #expect(stored["tools"]?[0]?["name"] == "lookup")
    }

    // MARK: - Stop reasons

    @Test func stopReasonsAreMapped() {
        let anthropic: [(String?, StopReason)] = [
            ("end_turn", .endTurn), ("max_tokens", .maxTokens), ("tool_use", .toolUse), ("stop_sequence", .stopSequence),
            ("refusal", .refusal), ("pause_turn", .other("pause_turn")), (nil, .other("")),
        ]
        for (name, reason) in anthropic { #expect(StopReason(anthropic: name) == reason) }
        let openAI: [(String?, StopReason)] = [
            ("stop", .endTurn), ("length", .maxTokens), ("tool_calls", .toolUse), ("function_call", .toolUse),
            ("content_filter", .refusal), ("eos", .other("eos")), (nil, .other("")),
        ]
        for (name, reason) in openAI { #expect(StopReason(openAI: name) == reason) }
    }

    // MARK: - Worst case

    @Test func theWorstCaseCountsTurnsTimesAttempts() {
        let model = ResolvedModel(
            name: "m", provider: .anthropic, model: "claude-test", baseURL: nil, apiKeyEnv: nil, price: ModelSpec.Price(input: 1, output: 2))
        let one = WorstCase.stage(promptTokens: 100, maxTokens: 50, retries: 1, models: [model])
        #expect(one.tokens == 2 * 150)
        let agent = WorstCase.stage(promptTokens: 100, maxTokens: 50, retries: 1, maxTurns: 5, models: [model, model])
        // Per model, 2 attempts of 5 turns; turn k (from 0) sends the prompt and k earlier replies.
        let input = 2 * (5 * 100 + 50 * (0 + 1 + 2 + 3 + 4)), output = 2 * 5 * 50
        #expect(agent.tokens == 2 * (input + output))
        let cost: Double = 2 * Double(input * 1 + output * 2) / 1_000_000
        #expect(agent.costUSD == cost)
        // Tool results add to every later turn's input.
        let tools = WorstCase.stage(promptTokens: 100, maxTokens: 50, retries: 0, maxTurns: 3, resultTokensPerTurn: 10, models: [model])
        #expect(tools.tokens == 3 * 100 + (50 + 10) * (0 + 1 + 2) + 3 * 50)
        #expect(WorstCase.calls(maxTurns: 5, retries: 2) == 15)
    }
}
