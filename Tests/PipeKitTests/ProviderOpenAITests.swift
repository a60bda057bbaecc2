import FakeLLM
import Foundation
@testable import PipeKit
import Testing

@Suite("Provider: OpenAI")
struct ProviderOpenAITests {
    /// Fits strict mode.
    static let strictSchema: JSONValue = [
        "type": "object",
        "properties": ["title": ["type": "string"], "score": ["type": "integer", "minimum": 0]],
        "required": ["title", "score"],
        "additionalProperties": false,
    ]
    /// Does not: `title` is optional and `minLength` is outside the subset.
    static let looseSchema: JSONValue = [
        "type": "object",
        "properties": ["title": ["type": "string", "minLength": 3], "score": ["type": "integer"]],
        "required": ["score"],
    ]

    @Test func textRequestShapeAndStreamedReply() async throws {
        let text = "Hello there, this reply arrives in several small deltas."
        try await withFakeServer({ _ in .text(text).streamed(every: .zero, deltaSize: 6) }) { server in
            let (result, progress) = await call(
                testProvider(.openai, server), testRequest(.openai, maxTokens: 300, temperature: 0.7))
            let reply = try result.get()
            #expect(reply.answerText == text)
            #expect(reply.stopReason == .endTurn)
            #expect(reply.usage.input > 0)
            #expect(reply.usage.output == TokenEstimate.tokens(for: text))  // the fake's count, from the usage chunk
            #expect(progress.count >= 5)
            #expect(progress.last == text.count)

            let seen = try #require(server.log.first?.request)
            #expect(seen.path == "/v1/chat/completions")
            #expect(seen.header("authorization") == "Bearer \(providerTestKey)")
            #expect(seen.header("x-api-key") == nil)
            #expect(seen.header("content-type") == "application/json")
            #expect(seen.model == "gpt-test")
            #expect(seen.isStreaming)
            #expect(seen.includeUsage)
            #expect(seen.system == "You are terse.")
            let json = try #require(seen.json)
            // 127.0.0.1 is not api.openai.com: the field every compatible server knows.
            #expect(json["max_tokens"] as? Int == 300)
            #expect(json["max_completion_tokens"] == nil)
            #expect(json["temperature"] as? Double == 0.7)
            #expect(json["response_format"] == nil)
            let messages = try #require(json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            #expect(messages.last?["content"] as? String == "Say hello.")
        }
    }

    @Test func maxTokensFieldDependsOnTheHost() {
        #expect(OpenAIRequestBody.maxTokensField(baseURL: "https://api.openai.com/v1") == "max_completion_tokens")
        #expect(OpenAIRequestBody.maxTokensField(baseURL: "http://localhost:11434/v1") == "max_tokens")
        #expect(OpenAIRequestBody.maxTokensField(baseURL: "https://litellm.internal.example/v1") == "max_tokens")
    }

    @Test func noSystemMessageWhenNoSystemAndText() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            _ = try await call(testProvider(.openai, server), testRequest(.openai, system: nil)).0.get()
            let json = try #require(server.log.first?.request.json)
            let messages = try #require(json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user"])
            #expect(json["temperature"] == nil)
        }
    }

    @Test func strictSchemaUsesJSONSchemaResponseFormat() async throws {
        let value = #"{"title": "T", "score": 3}"#
        try await withFakeServer({ _ in .text(value).streamed(every: .zero, deltaSize: 4) }) { server in
            let request = testRequest(.openai, schema: Self.strictSchema, stageName: "score it")
            let reply = try await call(testProvider(.openai, server), request).0.get()
            #expect(parsed(reply.answerText) == parsed(value))
            let json = try #require(server.log.first?.request.json)
            let format = try #require(json["response_format"] as? [String: Any])
            #expect(format["type"] as? String == "json_schema")
            let jsonSchema = try #require(format["json_schema"] as? [String: Any])
            #expect(jsonSchema["name"] as? String == "score_it")
            #expect(jsonSchema["strict"] as? Bool == true)
            #expect(sentSchema(server) == Self.strictSchema)
            // Strict mode needs no instructions in the prompt.
            #expect(server.log.first?.request.system == "You are terse.")
        }
    }

    @Test func looseSchemaUsesJSONModeWithTheSchemaInTheSystemMessage() async throws {
        try await withFakeServer({ _ in .text(#"{"score": 1}"#) }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai, schema: Self.looseSchema)).0.get()
            #expect(parsed(reply.answerText) == ["score": 1])
            let seen = try #require(server.log.first?.request)
            let format = try #require(seen.json?["response_format"] as? [String: Any])
            #expect(format["type"] as? String == "json_object")
            #expect(format["json_schema"] == nil)
            let system = try #require(seen.system)
            #expect(system.hasPrefix("You are terse.\n\n"))
            #expect(system.contains("Reply with only a JSON value that matches this JSON Schema:"))
            #expect(system.contains(Self.looseSchema.serialized()))
        }
    }

    @Test func nonObjectRootStrict() async throws {
        let schema: JSONValue = ["type": "array", "items": ["type": "string"]]
        try await withFakeServer({ _ in .text(#"{"value": ["a", "b"]}"#) }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai, schema: schema)).0.get()
            #expect(parsed(reply.answerText) == ["a", "b"])
            let format = try #require(server.log.first?.request.json?["response_format"] as? [String: Any])
            #expect(format["type"] as? String == "json_schema")
            #expect(
                sentSchema(server) == [
                    "type": "object", "properties": ["value": schema], "required": ["value"], "additionalProperties": false,
                ])
        }
    }

    @Test func nonObjectRootInJSONModeAsksForValue() async throws {
        let schema: JSONValue = ["type": "array", "items": ["type": "string", "minLength": 1]]
        try await withFakeServer({ _ in .text(#"{"value": ["a"]}"#) }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai, schema: schema, system: nil)).0.get()
            #expect(parsed(reply.answerText) == ["a"])
            let seen = try #require(server.log.first?.request)
            #expect((seen.json?["response_format"] as? [String: Any])?["type"] as? String == "json_object")
            let system = try #require(seen.system)
            #expect(system.hasPrefix(#"Reply with only a JSON object of the form {"value": ...}"#))
            #expect(system.contains(schema.serialized()))
        }
    }

    @Test func bareValueInsteadOfWrapperIsKept() {
        let wrapped = ObjectRootSchema(["type": "array"])
        #expect(wrapped.unwrap(#"["x"]"#) == #"["x"]"#)
        #expect(wrapped.unwrap("```json\n{\"value\": [1]}\n```") == "[1]")
        #expect(wrapped.unwrap("not json") == "not json")
        #expect(ObjectRootSchema(["type": "object"]).unwrap(#"{"value": 1}"#) == #"{"value": 1}"#)
    }

    @Test func lengthFinishReason() async throws {
        try await withFakeServer({ _ in .truncated("partial") }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai)).0.get()
            #expect(reply.answerText == "partial")
            #expect(reply.stopReason == .maxTokens)
        }
    }

    @Test func noKeyMeansNoAuthorizationHeader() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            _ = try await call(testProvider(.openai, server, key: nil), testRequest(.openai)).0.get()
            #expect(server.log.first?.request.header("authorization") == nil)
        }
    }

    @Test func plainJSONCompletionIsAcceptedWhenTheServerDoesNotStream() async throws {
        let completion = """
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}
            """
        try await withFakeServer({ _ in .raw(status: 200, body: completion) }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai)).0.get()
            #expect(reply.answerText == "hi")
            #expect(reply.usage == TokenUsage(input: 9, output: 1))
            #expect(reply.stopReason == .endTurn)
        }
    }

    @Test func usageIsEstimatedWhenTheServerReportsNone() async throws {
        let stream = """
            data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello "},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"content":"world"},"finish_reason":"stop"}]}

            data: [DONE]


            """
        try await withFakeServer({ _ in .raw(status: 200, contentType: "text/event-stream", body: stream) }) { server in
            let reply = try await call(testProvider(.openai, server), testRequest(.openai)).0.get()
            #expect(reply.answerText == "Hello world")
            #expect(reply.usage.input > 0)
            #expect(reply.usage.output == TokenEstimate.tokens(for: "Hello world"))
        }
    }

    @Test func refusalIsInvalidResponse() async throws {
        let stream = """
            data: {"choices":[{"index":0,"delta":{"role":"assistant","refusal":"I can't help with that."},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

            data: [DONE]


            """
        try await withFakeServer({ _ in .raw(status: 200, contentType: "text/event-stream", body: stream) }) { server in
            let error = await call(testProvider(.openai, server), testRequest(.openai, schema: Self.strictSchema)).0.failure
            guard case .invalidResponse(let message) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(message.contains("refused"))
        }
    }
}
