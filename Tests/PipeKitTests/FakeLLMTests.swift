import FakeLLM
import Foundation
import PipeKit
import Testing

@Suite("FakeLLM server")
struct FakeLLMTests {
    @Test func anthropicMessageShape() async throws {
        try await withFakeServer({ _ in .text("Paris") }) { server in
            let body: [String: Any] = [
                "model": "claude-haiku-4-5", "max_tokens": 64, "system": "Answer briefly.",
                "messages": [["role": "user", "content": [["type": "text", "text": "Capital of France?"]]]],
            ]
            let response = try await HTTPClient.shared.send(jsonRequest(server, body: body))
            let json = try #require(jsonObject(response.body))
            #expect(json["type"] as? String == "message")
            #expect(json["role"] as? String == "assistant")
            #expect(json["model"] as? String == "claude-haiku-4-5")
            #expect(json["stop_reason"] as? String == "end_turn")
            #expect((json["content"] as? [[String: Any]])?.first?["type"] as? String == "text")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 9)  // "Answer briefly.\nCapital of France?": 34 bytes, rounded up
            #expect(usage["output_tokens"] as? Int == 2)
            let request = try #require(server.log.first?.request)
            #expect(request.api == .anthropic)
            #expect(request.system == "Answer briefly.")
            #expect(request.prompt == "Answer briefly.\nCapital of France?")
            #expect(request.maxTokens == 64)
            #expect(!request.isStreaming)
        }
    }

    @Test func anthropicForcedToolGivesToolUse() async throws {
        try await withFakeServer(FakeLLMServer.defaultReply) { server in
            let schema: [String: Any] = [
                "type": "object", "required": ["title", "tags", "score"],
                "properties": ["title": ["type": "string", "minLength": 3], "tags": ["type": "array", "items": ["enum": ["a", "b"]]], "score": ["type": "integer", "minimum": 5]],
            ]
            let body: [String: Any] = [
                "model": "claude-test", "max_tokens": 64, "messages": [["role": "user", "content": "go"]],
                "tools": [["name": "output", "description": "d", "input_schema": schema]],
                "tool_choice": ["type": "tool", "name": "output"],
            ]
            let response = try await HTTPClient.shared.send(jsonRequest(server, body: body))
            let json = try #require(jsonObject(response.body))
            #expect(json["stop_reason"] as? String == "tool_use")
            let block = try #require((json["content"] as? [[String: Any]])?.first)
            #expect(block["type"] as? String == "tool_use")
            #expect(block["name"] as? String == "output")
            #expect((block["id"] as? String)?.hasPrefix("toolu_") == true)
            let input = try #require(block["input"] as? [String: Any])
            #expect(input["title"] as? String == "xxx")
            #expect(input["tags"] as? [String] == ["a"])
            #expect(input["score"] as? Int == 5)
        }
    }

    @Test func openAICompletionShapeAndStructuredOutput() async throws {
        try await withFakeServer(FakeLLMServer.defaultReply) { server in
            let body: [String: Any] = [
                "model": "gpt-test", "max_completion_tokens": 99,
                "messages": [["role": "developer", "content": "sys"], ["role": "user", "content": "hi"]],
                "response_format": ["type": "json_schema", "json_schema": ["name": "out", "strict": true, "schema": [
                    "type": "object", "required": ["ok"], "properties": ["ok": ["type": "boolean"]],
                ]]],
            ]
            let response = try await HTTPClient.shared.send(jsonRequest(server, path: "/v1/chat/completions", body: body))
            let json = try #require(jsonObject(response.body))
            #expect(json["object"] as? String == "chat.completion")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(choice["index"] as? Int == 0)
            #expect(choice["finish_reason"] as? String == "stop")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == #"{"ok":true}"#)
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["total_tokens"] as? Int == (usage["prompt_tokens"] as? Int ?? 0) + (usage["completion_tokens"] as? Int ?? 0))
            let request = try #require(server.log.first?.request)
            #expect(request.api == .openAI)
            #expect(request.system == "sys")
            #expect(request.maxTokens == 99)
            #expect(request.replySchema != nil)
        }
    }

    @Test func errorBodiesHaveEachAPIsShape() async throws {
        try await withFakeServer({ _ in .error(status: 401, message: "invalid x-api-key") }) { server in
            let anthropic = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(anthropic.status == 401)
            let a = try #require(jsonObject(anthropic.body))
            #expect(a["type"] as? String == "error")
            #expect((a["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            #expect((a["error"] as? [String: Any])?["message"] as? String == "invalid x-api-key")

            let openAI = try await HTTPClient.shared.send(jsonRequest(server, path: "/v1/chat/completions"))
            let o = try #require(jsonObject(openAI.body)?["error"] as? [String: Any])
            #expect(o["message"] as? String == "invalid x-api-key")
            #expect(o["code"] as? String == "invalid_api_key")
        }
    }

    @Test func truncatedRepliesReportMaxTokens() async throws {
        try await withFakeServer({ _ in .truncated("{\"a\": ") }) { server in
            let anthropic = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(jsonObject(anthropic.body)?["stop_reason"] as? String == "max_tokens")
            let openAI = try await HTTPClient.shared.send(jsonRequest(server, path: "/v1/chat/completions"))
            let choice = (jsonObject(openAI.body)?["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "length")
        }
    }

    @Test func aReplyThatIsNotJSON() async throws {
        try await withFakeServer({ _ in .notJSON() }) { server in
            let response = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/html")
            #expect(jsonObject(response.body) == nil)
            #expect(response.text.contains("Bad Gateway"))
        }
    }

    @Test func theLogRecordsTimesInOrder() async throws {
        try await withFakeServer({ _ in .text("x").delayed(by: .milliseconds(50)) }) { server in
            _ = try await HTTPClient.shared.send(jsonRequest(server))
            _ = try await HTTPClient.shared.send(jsonRequest(server, path: "/v1/chat/completions", body: ["model": "gpt-x", "messages": []]))
            let log = server.log
            #expect(log.map(\.path) == ["/v1/messages", "/v1/chat/completions"])
            #expect(log.map(\.model) == ["claude-test", "gpt-x"])
            #expect(log.map(\.status) == [200, 200])
            #expect(log.allSatisfy { $0.completed })
            let first = try #require(log[0].completion)
            #expect(first - log[0].arrival >= .milliseconds(50))
            #expect(log[1].arrival >= first)
            #expect(log.map(\.request.callNumber) == [1, 2])
            server.resetLog()
            #expect(server.log.isEmpty)
        }
    }

    @Test func unknownPathsAre404() async throws {
        try await withFakeServer({ _ in .text("x") }) { server in
            let response = try await HTTPClient.shared.send(jsonRequest(server, path: "/v2/other"))
            #expect(response.status == 404)
        }
    }

    /// The server reads a body's escapes, numbers and nesting as JSON says (its own parser,
    /// not Foundation's): the prompt, the limits and the schema it answers from.
    @Test func theServerReadsEscapesAndNumbersAsJSONSays() async throws {
        try await withFakeServer(FakeLLMServer.defaultReply) { server in
            let body = #"""
                { "model" : "m\u00e9", "max_tokens": 12, "system": "tab\there \"q\" \\ \/",
                  "messages": [ {"role": "user", "content": [{"type": "text", "text": "line\nnext \ud83d\ude00 é"}]} ],
                  "tools": [{"name": "out", "input_schema": {"type": "object", "required": ["n", "r", "k"],
                    "properties": {"n": {"type": "number", "minimum": 2.5}, "r": {"type": "integer", "minimum": -3},
                      "k": {"const": [true, null, 1e2]}}}}],
                  "tool_choice": {"type": "tool", "name": "out"}, "stream": false }
                """#
            let request = HTTPRequest(
                url: server.baseURL + "/v1/messages", headers: ["content-type": "application/json"], body: Array(body.utf8),
                timeout: .seconds(5))
            let response = try await HTTPClient.shared.send(request)
            let seen = try #require(server.log.first?.request)
            #expect(seen.model == "m\u{e9}")
            #expect(seen.maxTokens == 12)
            #expect(seen.system == "tab\there \"q\" \\ /")
            #expect(seen.prompt == "tab\there \"q\" \\ /\nline\nnext \u{1F600} é")
            #expect(seen.forcedTool == "out")
            #expect(!seen.isStreaming)
            let input = try #require(((jsonObject(response.body)?["content"] as? [[String: Any]])?.first)?["input"] as? [String: Any])
            #expect(input["n"] as? Double == 2.5)
            #expect(input["r"] as? Int == -3)
            let k = try #require(input["k"] as? [Any])
            #expect(k.count == 3 && k[0] as? Bool == true && k[1] is NSNull && k[2] as? Double == 100)
        }
    }

    @Test func theServerReadsChunkedRequestBodies() async throws {
        try await withFakeServer({ request in .text(request.prompt) }) { server in
            let json = #"{"model":"m","messages":[{"role":"user","content":"chunked body"}]}"#
            let bytes = Array(json.utf8)
            var raw = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            raw += String(10, radix: 16) + "\r\n" + String(decoding: bytes[..<10], as: UTF8.self) + "\r\n"
            raw += String(bytes.count - 10, radix: 16) + "\r\n" + String(decoding: bytes[10...], as: UTF8.self) + "\r\n0\r\n\r\n"
            let reply = try RawSocket.exchange(port: server.port, Array(raw.utf8))
            #expect(reply.hasPrefix("HTTP/1.1 200 OK"))
            #expect(reply.contains("chunked body"))
            #expect(server.log.first?.request.prompt == "chunked body")
        }
    }

    @Test func anErrorEventMidStream() async throws {
        try await withFakeServer({ _ in .errorMidStream(afterEvents: 3) }) { server in
            let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]
            let events = Collector<SSEEvent>()
            let response = try await HTTPClient.shared.streamEvents(jsonRequest(server, body: body)) { events.append($0) }
            #expect(response.status == 200)
            #expect(events.all.map(\.event) == ["message_start", "content_block_start", "ping", "error"])
            let error = try #require(jsonObject(Array(events.all[3].data.utf8))?["error"] as? [String: Any])
            #expect(error["type"] as? String == "overloaded_error")

            let plain = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(plain.status == 529)
        }
    }

    @Test func aLargeBodyRoundTrips() async throws {
        try await withFakeServer({ request in .text("\(request.prompt.utf8.count)") }) { server in
            let prompt = String(repeating: "0123456789abcdef", count: 128 * 1024)  // 2 MiB
            let body: [String: Any] = ["model": "m", "max_tokens": 1, "messages": [["role": "user", "content": prompt]]]
            let start = ContinuousClock.now
            let response = try await HTTPClient.shared.send(jsonRequest(server, body: body))
            #expect(ContinuousClock.now - start < .seconds(30))  // no `Expect: 100-continue` stall
            let content = (jsonObject(response.body)?["content"] as? [[String: Any]])?.first?["text"] as? String
            #expect(content == "\(prompt.utf8.count)")
            #expect(server.log.first?.request.header("expect") == nil)
        }
    }

    @Test func stopEndsHungConnections() async throws {
        let server = FakeLLMServer(reply: .hang)
        try server.start()
        let request = jsonRequest(server, timeout: .seconds(60))
        let task = Task { () throws(HTTPError) -> HTTPResponse in try await HTTPClient.shared.send(request) }
        while server.requestCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let start = ContinuousClock.now
        server.stop()
        await #expect(throws: HTTPError.self) { try await task.value }
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
