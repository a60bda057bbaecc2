import Foundation

/// Bodies and events in the shape of OpenAI's Chat Completions API (`POST /v1/chat/completions`).
enum OpenAIShape {
    static func completion(for request: FakeRequest, blocks: [FakeReply.Block], stopReason: FakeReply.StopReason) -> [String: Any] {
        [
            "id": "chatcmpl-fake\(request.callNumber)",
            "object": "chat.completion",
            "created": created,
            "model": request.answeringModel,
            "choices": [[
                "index": 0,
                "message": message(for: request, blocks: blocks),
                "logprobs": NSNull(),
                "finish_reason": finishReason(blocks, stopReason),
            ]],
            "usage": usage(for: request, text: blocks.written),
        ]
    }

    /// The SSE events of a streamed completion, each one `data: ...\n\n`, ending with `data: [DONE]`.
    static func events(for request: FakeRequest, blocks: [FakeReply.Block], stopReason: FakeReply.StopReason, deltaSize: Int) -> [String] {
        var events: [String] = []
        func chunk(choices: [Any], usage: Any?) {
            var body: [String: Any] = [
                "id": "chatcmpl-fake\(request.callNumber)",
                "object": "chat.completion.chunk",
                "created": created,
                "model": request.answeringModel,
                "choices": choices,
            ]
            // With include_usage every chunk has a `usage` key: null until the last one.
            if request.includeUsage { body["usage"] = usage ?? NSNull() }
            events.append("data: \(JSON.text(body))\n\n")
        }
        func delta(_ delta: [String: Any], finish: String? = nil) {
            chunk(choices: [["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish ?? NSNull()] as [String: Any]], usage: nil)
        }
        var role: [String: Any] = ["role": "assistant"]
        var calls = 0
        for block in blocks {
            switch block {
            case .text(let text):
                delta(role.merging(["content": ""]) { $1 })
                for piece in Tokens.pieces(of: text, size: deltaSize) {
                    delta(["content": piece])
                }
            case .toolUse(let name, let input):
                let call = calls
                calls += 1
                delta(role.merging(["content": NSNull(), "tool_calls": [[
                    "index": call, "id": callID(request, call), "type": "function",
                    "function": ["name": name, "arguments": ""],
                ]]]) { $1 })
                for piece in Tokens.pieces(of: input, size: deltaSize) {
                    delta(["tool_calls": [["index": call, "function": ["arguments": piece]]]])
                }
            }
            role = [:]
        }
        delta([:], finish: finishReason(blocks, stopReason))
        if request.includeUsage { chunk(choices: [], usage: usage(for: request, text: blocks.written)) }
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

    private static func message(for request: FakeRequest, blocks: [FakeReply.Block]) -> [String: Any] {
        var texts: [String] = []
        var calls: [[String: Any]] = []
        for block in blocks {
            switch block {
            case .text(let text): texts.append(text)
            case .toolUse(let name, let input):
                calls.append(["id": callID(request, calls.count), "type": "function", "function": ["name": name, "arguments": input]])
            }
        }
        var message: [String: Any] = ["role": "assistant", "content": texts.isEmpty ? NSNull() : texts.joined(), "refusal": NSNull()]
        if !calls.isEmpty { message["tool_calls"] = calls }
        return message
    }

    private static func callID(_ request: FakeRequest, _ number: Int) -> String {
        number == 0 ? "call_fake_\(request.callNumber)" : "call_fake_\(request.callNumber)_\(number)"
    }

    private static var created: Int { Int(Date().timeIntervalSince1970) }

    private static func finishReason(_ blocks: [FakeReply.Block], _ reason: FakeReply.StopReason) -> String {
        switch reason {
        case .maxTokens: "length"
        case .endTurn: blocks.callsATool ? "tool_calls" : "stop"
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
