import Foundation

/// Bodies and events in the shape of OpenAI's Chat Completions API (`POST /v1/chat/completions`).
enum OpenAIShape {
    static func completion(for request: FakeRequest, text: String, stopReason: FakeReply.StopReason) -> [String: Any] {
        [
            "id": "chatcmpl-fake\(request.callNumber)",
            "object": "chat.completion",
            "created": created,
            "model": request.model ?? "fake-model",
            "choices": [[
                "index": 0,
                "message": message(for: request, text: text),
                "logprobs": NSNull(),
                "finish_reason": finishReason(request, stopReason),
            ]],
            "usage": usage(for: request, text: text),
        ]
    }

    /// The SSE events of a streamed completion, each one `data: ...\n\n`, ending with `data: [DONE]`.
    static func events(for request: FakeRequest, text: String, stopReason: FakeReply.StopReason, deltaSize: Int) -> [String] {
        var events: [String] = []
        func chunk(choices: [Any], usage: Any?) {
            var body: [String: Any] = [
                "id": "chatcmpl-fake\(request.callNumber)",
                "object": "chat.completion.chunk",
                "created": created,
                "model": request.model ?? "fake-model",
                "choices": choices,
            ]
            // With include_usage every chunk has a `usage` key: null until the last one.
            if request.includeUsage { body["usage"] = usage ?? NSNull() }
            events.append("data: \(JSON.text(body))\n\n")
        }
        func delta(_ delta: [String: Any], finish: String? = nil) {
            chunk(choices: [["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish ?? NSNull()] as [String: Any]], usage: nil)
        }
        if let tool = request.forcedTool {
            delta(["role": "assistant", "content": NSNull(), "tool_calls": [[
                "index": 0, "id": "call_fake_\(request.callNumber)", "type": "function",
                "function": ["name": tool, "arguments": ""],
            ]]])
            for piece in Tokens.pieces(of: text, size: deltaSize) {
                delta(["tool_calls": [["index": 0, "function": ["arguments": piece]]]])
            }
        } else {
            delta(["role": "assistant", "content": ""])
            for piece in Tokens.pieces(of: text, size: deltaSize) {
                delta(["content": piece])
            }
        }
        delta([:], finish: finishReason(request, stopReason))
        if request.includeUsage { chunk(choices: [], usage: usage(for: request, text: text)) }
        events.append("data: [DONE]\n\n")
        return events
    }

    private static func usage(for request: FakeRequest, text: String) -> [String: Int] {
        let prompt = Tokens.estimate(request.prompt)
        let completion = Tokens.estimate(text)
        return ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion]
    }

    static func error(status: Int, type: String?, message: String) -> [String: Any] {
        [
            "error": [
                "message": message,
                "type": type ?? errorType(status),
                "param": NSNull(),
                "code": status == 401 ? "invalid_api_key" : NSNull(),
            ] as [String: Any]
        ]
    }

    private static func message(for request: FakeRequest, text: String) -> [String: Any] {
        guard let tool = request.forcedTool else {
            return ["role": "assistant", "content": text, "refusal": NSNull()]
        }
        return [
            "role": "assistant", "content": NSNull(), "refusal": NSNull(),
            "tool_calls": [[
                "id": "call_fake_\(request.callNumber)", "type": "function",
                "function": ["name": tool, "arguments": text],
            ]],
        ]
    }

    private static var created: Int { Int(Date().timeIntervalSince1970) }

    private static func finishReason(_ request: FakeRequest, _ reason: FakeReply.StopReason) -> String {
        switch reason {
        case .maxTokens: "length"
        case .endTurn: request.forcedTool == nil ? "stop" : "tool_calls"
        }
    }

    private static func errorType(_ status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_exceeded"
        case 400..<500: "invalid_request_error"
        default: "server_error"
        }
    }
}
