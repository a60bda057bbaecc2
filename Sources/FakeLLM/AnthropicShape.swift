import Foundation

/// Bodies and events in the shape of Anthropic's Messages API (`POST /v1/messages`).
enum AnthropicShape {
    static func message(for request: FakeRequest, text: String, stopReason: FakeReply.StopReason) -> [String: Any] {
        [
            "id": "msg_fake_\(request.callNumber)",
            "type": "message",
            "role": "assistant",
            "model": request.model ?? "fake-model",
            "content": [contentBlock(for: request, text: text, complete: true)],
            "stop_reason": stopReasonName(request, stopReason),
            "stop_sequence": NSNull(),
            "usage": ["input_tokens": Tokens.estimate(request.prompt), "output_tokens": Tokens.estimate(text)],
        ]
    }

    /// The SSE events of a streamed message, each one `event: ...\ndata: ...\n\n`.
    static func events(for request: FakeRequest, text: String, stopReason: FakeReply.StopReason, deltaSize: Int) -> [String] {
        var events: [String] = []
        func add(_ name: String, _ data: [String: Any]) {
            events.append("event: \(name)\ndata: \(JSON.text(data))\n\n")
        }
        var start = message(for: request, text: "", stopReason: stopReason)
        start["content"] = [Any]()
        start["stop_reason"] = NSNull()
        start["usage"] = ["input_tokens": Tokens.estimate(request.prompt), "output_tokens": 1]
        add("message_start", ["type": "message_start", "message": start])
        add("content_block_start", ["type": "content_block_start", "index": 0, "content_block": contentBlock(for: request, text: "", complete: false)])
        add("ping", ["type": "ping"])
        for piece in Tokens.pieces(of: text, size: deltaSize) {
            let delta: [String: Any] =
                request.forcedTool == nil
                ? ["type": "text_delta", "text": piece]
                : ["type": "input_json_delta", "partial_json": piece]
            add("content_block_delta", ["type": "content_block_delta", "index": 0, "delta": delta])
        }
        add("content_block_stop", ["type": "content_block_stop", "index": 0])
        add("message_delta", [
            "type": "message_delta",
            "delta": ["stop_reason": stopReasonName(request, stopReason), "stop_sequence": NSNull()],
            "usage": ["output_tokens": Tokens.estimate(text)],
        ])
        add("message_stop", ["type": "message_stop"])
        return events
    }

    static func error(status: Int, type: String?, message: String) -> [String: Any] {
        ["type": "error", "error": ["type": type ?? errorType(status), "message": message]]
    }

    private static func contentBlock(for request: FakeRequest, text: String, complete: Bool) -> [String: Any] {
        guard let tool = request.forcedTool else { return ["type": "text", "text": text] }
        // A streamed tool_use block starts with an empty input; the JSON follows as deltas.
        let input: Any = complete ? JSON.value(text) : [String: Any]()
        return ["type": "tool_use", "id": "toolu_fake_\(request.callNumber)", "name": tool, "input": input]
    }

    private static func stopReasonName(_ request: FakeRequest, _ reason: FakeReply.StopReason) -> String {
        switch reason {
        case .maxTokens: "max_tokens"
        case .endTurn: request.forcedTool == nil ? "end_turn" : "tool_use"
        }
    }

    private static func errorType(_ status: Int) -> String {
        switch status {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        default: "api_error"
        }
    }
}
