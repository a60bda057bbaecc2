import Foundation

/// Bodies and events in the shape of Anthropic's Messages API (`POST /v1/messages`).
enum AnthropicShape {
    static func message(for request: FakeRequest, blocks: [FakeReply.Block], stopReason: FakeReply.StopReason) -> [String: Any] {
        [
            "id": "msg_fake_\(request.callNumber)",
            "type": "message",
            "role": "assistant",
            "model": request.answeringModel,
            "content": blocks.enumerated().map { contentBlock(for: request, $1, number: $0, complete: true) },
            "stop_reason": stopReasonName(blocks, stopReason),
            "stop_sequence": NSNull(),
            "usage": ["input_tokens": Tokens.estimate(request.prompt), "output_tokens": Tokens.estimate(blocks.written)],
        ]
    }

    /// The SSE events of a streamed message, each one `event: ...\ndata: ...\n\n`.
    static func events(for request: FakeRequest, blocks: [FakeReply.Block], stopReason: FakeReply.StopReason, deltaSize: Int) -> [String] {
        var events: [String] = []
        func add(_ name: String, _ data: [String: Any]) {
            events.append("event: \(name)\ndata: \(JSON.text(data))\n\n")
        }
        var start = message(for: request, blocks: [], stopReason: stopReason)
        start["content"] = [Any]()
        start["stop_reason"] = NSNull()
        start["usage"] = ["input_tokens": Tokens.estimate(request.prompt), "output_tokens": 1]
        add("message_start", ["type": "message_start", "message": start])
        for (index, block) in blocks.enumerated() {
            let opening = contentBlock(for: request, block, number: index, complete: false)
            add("content_block_start", ["type": "content_block_start", "index": index, "content_block": opening])
            if index == 0 { add("ping", ["type": "ping"]) }
            let (written, deltaType, key) =
                switch block {
                case .text(let text): (text, "text_delta", "text")
                case .toolUse(_, let input): (input, "input_json_delta", "partial_json")
                }
            for piece in Tokens.pieces(of: written, size: deltaSize) {
                add("content_block_delta", ["type": "content_block_delta", "index": index, "delta": ["type": deltaType, key: piece]])
            }
            add("content_block_stop", ["type": "content_block_stop", "index": index])
        }
        add("message_delta", [
            "type": "message_delta",
            "delta": ["stop_reason": stopReasonName(blocks, stopReason), "stop_sequence": NSNull()],
            "usage": ["output_tokens": Tokens.estimate(blocks.written)],
        ])
        add("message_stop", ["type": "message_stop"])
        return events
    }

    static func error(status: Int, type: String?, message: String) -> [String: Any] {
        ["type": "error", "error": ["type": type ?? errorType(status), "message": message]]
    }

    private static func contentBlock(for request: FakeRequest, _ block: FakeReply.Block, number: Int, complete: Bool) -> [String: Any] {
        switch block {
        case .text(let text): return ["type": "text", "text": complete ? text : ""]
        case .toolUse(let name, let input):
            // A streamed tool_use block starts with an empty input; the JSON follows as deltas.
            let id = number == 0 ? "toolu_fake_\(request.callNumber)" : "toolu_fake_\(request.callNumber)_\(number)"
            return ["type": "tool_use", "id": id, "name": name, "input": complete ? JSON.value(input) : [String: Any]()]
        }
    }

    private static func stopReasonName(_ blocks: [FakeReply.Block], _ reason: FakeReply.StopReason) -> String {
        switch reason {
        case .maxTokens: "max_tokens"
        case .endTurn: blocks.callsATool ? "tool_use" : "end_turn"
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
