import FakeLLM
import Foundation
@testable import PipeKit
import Testing

@Suite("Provider: Anthropic")
struct ProviderAnthropicTests {
    static let schema: JSONValue = [
        "type": "object",
        "properties": ["title": ["type": "string"], "tags": ["type": "array", "items": ["type": "string"]]],
        "required": ["title", "tags"],
    ]

    @Test func textRequestShapeAndStreamedReply() async throws {
        let text = "Hello there, this reply arrives in several small deltas."
        try await withFakeServer({ _ in .text(text).streamed(every: .zero, deltaSize: 7) }) { server in
            let (result, progress) = await call(
                testProvider(.anthropic, server), testRequest(.anthropic, maxTokens: 300, temperature: 0.2))
            let reply = try result.get()
            #expect(reply.answerText == text)
            #expect(reply.stopReason == .endTurn)
            #expect(reply.usage.input > 0)
            #expect(reply.usage.output == TokenEstimate.tokens(for: text))  // the fake's count, from message_delta
            #expect(progress.count >= 5)
            #expect(progress == progress.sorted())
            #expect(progress.last == text.count)

            let seen = try #require(server.log.first?.request)
            #expect(seen.path == "/v1/messages")
            #expect(seen.header("x-api-key") == providerTestKey)
            #expect(seen.header("anthropic-version") == "2023-06-01")
            #expect(seen.header("content-type") == "application/json")
            #expect(seen.header("authorization") == nil)
            #expect(seen.model == "claude-test")
            #expect(seen.maxTokens == 300)
            #expect(seen.system == "You are terse.")
            #expect(seen.isStreaming)
            #expect(seen.forcedTool == nil)
            let json = try #require(seen.json)
            #expect(json["temperature"] as? Double == 0.2)
            #expect(json["tools"] == nil)
            let messages = try #require(json["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages.first?["role"] as? String == "user")
            #expect(messages.first?["content"] as? String == "Say hello.")
        }
    }

    @Test func noTemperatureNoSystemWhenUnset() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            _ = try await call(testProvider(.anthropic, server), testRequest(.anthropic, system: nil)).0.get()
            let json = try #require(server.log.first?.request.json)
            #expect(json["temperature"] == nil)
            #expect(json["system"] == nil)
        }
    }

    @Test func structuredStageForcesATool() async throws {
        let value = #"{"title": "A fine title", "tags": ["x", "y", "z"]}"#
        try await withFakeServer({ _ in .text(value).streamed(every: .zero, deltaSize: 5) }) { server in
            let request = testRequest(.anthropic, schema: Self.schema, stageName: "make title!")
            let (result, progress) = await call(testProvider(.anthropic, server), request)
            let reply = try result.get()
            #expect(parsed(reply.answerText) == parsed(value))
            #expect(reply.stopReason == .toolUse)
            #expect(progress.last == value.count)

            let seen = try #require(server.log.first?.request)
            #expect(seen.forcedTool == "make_title_")
            let json = try #require(seen.json)
            let tools = try #require(json["tools"] as? [[String: Any]])
            #expect(tools.count == 1)
            #expect(tools.first?["name"] as? String == "make_title_")
            let choice = try #require(json["tool_choice"] as? [String: Any])
            #expect(choice["type"] as? String == "tool")
            #expect(choice["name"] as? String == "make_title_")
            #expect(sentSchema(server) == Self.schema)
        }
    }

    @Test func nonObjectRootIsWrappedAndUnwrapped() async throws {
        let schema: JSONValue = ["type": "array", "items": ["$ref": "#/$defs/tag"], "$defs": ["tag": ["type": "string"]]]
        try await withFakeServer({ _ in .text(#"{"value": ["a", "b"]}"#) }) { server in
            let (result, _) = await call(testProvider(.anthropic, server), testRequest(.anthropic, schema: schema))
            let reply = try result.get()
            #expect(parsed(reply.answerText) == ["a", "b"])
            let sent = try #require(sentSchema(server))
            #expect(sent["type"] == "object")
            #expect(sent["required"] == ["value"])
            #expect(sent["properties"]?["value"] == ["type": "array", "items": ["$ref": "#/$defs/tag"]])
            #expect(sent["$defs"] == ["tag": ["type": "string"]])
        }
    }

    @Test func stringRootWrapped() async throws {
        try await withFakeServer({ _ in .text(#"{"value": "just a string"}"#) }) { server in
            let (result, _) = await call(testProvider(.anthropic, server), testRequest(.anthropic, schema: ["type": "string"]))
            let reply = try result.get()
            #expect(reply.answerText == #""just a string""#)
        }
    }

    @Test func maxTokensStopReasonIsReported() async throws {
        try await withFakeServer({ _ in .truncated("cut off mid") }) { server in
            let reply = try await call(testProvider(.anthropic, server), testRequest(.anthropic)).0.get()
            #expect(reply.answerText == "cut off mid")
            #expect(reply.stopReason == .maxTokens)
        }
    }

    @Test func plainJSONMessageIsAcceptedWhenTheServerDoesNotStream() async throws {
        let message = """
            {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"tool_use","id":"t","name":"greet","input":{"title":"T","tags":[]}}],
             "stop_reason":"tool_use","usage":{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":7}}
            """
        try await withFakeServer({ _ in .raw(status: 200, body: message) }) { server in
            let reply = try await call(testProvider(.anthropic, server), testRequest(.anthropic, schema: Self.schema)).0.get()
            #expect(parsed(reply.answerText) == ["title": "T", "tags": []])
            #expect(reply.usage == TokenUsage(input: 15, output: 7))
            #expect(reply.stopReason == .toolUse)
        }
    }

    @Test func noKeyMeansNoKeyHeader() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            _ = try await call(testProvider(.anthropic, server, key: nil), testRequest(.anthropic)).0.get()
            let seen = try #require(server.log.first?.request)
            #expect(seen.header("x-api-key") == nil)
            #expect(seen.header("anthropic-version") == "2023-06-01")
        }
    }

    @Test func emptyReplyIsInvalid() async throws {
        try await withFakeServer({ _ in .text("") }) { server in
            let error = await call(testProvider(.anthropic, server), testRequest(.anthropic)).0.failure
            guard case .invalidResponse = error else { Issue.record("expected invalidResponse, got \(String(describing: error))"); return }
        }
    }
}
