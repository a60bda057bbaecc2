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

    /// The SSE events of a streamed message, each one `event: ...\ndata: ...\n\n`. Written as
    /// text with the keys in the order `JSON.text` sorts them: a dictionary built and sorted
    /// for every event was the largest part of the benchmark server's CPU (BENCHMARKS.md).
    static func events(for request: FakeRequest, blocks: [FakeReply.Block], stopReason: FakeReply.StopReason, deltaSize: Int) -> [String] {
        var events: [String] = []
        func add(_ name: String, _ data: String) {
            events.append("event: \(name)\ndata: \(data)\n\n")
        }
        add("message_start",
            #"{"message":{"content":[],"id":"msg_fake_\#(request.callNumber)","model":\#(JSON.quoted(request.answeringModel)),"#
                + #""role":"assistant","stop_reason":null,"stop_sequence":null,"type":"message","#
                + #""usage":{"input_tokens":\#(Tokens.estimate(request.prompt)),"output_tokens":1}},"type":"message_start"}"#)
        for (index, block) in blocks.enumerated() {
            let opening: String
            let (written, deltaType, key): (String, String, String)
            switch block {
            case .text(let text):
                opening = #"{"text":"","type":"text"}"#
                (written, deltaType, key) = (text, "text_delta", "text")
            case .toolUse(let name, let input):
                // A streamed tool_use block starts with an empty input; the JSON follows as deltas.
                opening = #"{"id":\#(JSON.quoted(toolUseID(for: request, number: index))),"input":{},"name":\#(JSON.quoted(name)),"type":"tool_use"}"#
                (written, deltaType, key) = (input, "input_json_delta", "partial_json")
            }
            add("content_block_start", #"{"content_block":\#(opening),"index":\#(index),"type":"content_block_start"}"#)
            if index == 0 { add("ping", #"{"type":"ping"}"#) }
            for piece in Tokens.pieces(of: written, size: deltaSize) {
                add("content_block_delta", #"{"delta":{"\#(key)":\#(JSON.quoted(piece)),"type":"\#(deltaType)"},"index":\#(index),"type":"content_block_delta"}"#)
            }
            add("content_block_stop", #"{"index":\#(index),"type":"content_block_stop"}"#)
        }
        add("message_delta",
            #"{"delta":{"stop_reason":"\#(stopReasonName(blocks, stopReason))","stop_sequence":null},"type":"message_delta","#
                + #""usage":{"output_tokens":\#(Tokens.estimate(blocks.written))}}"#)
        add("message_stop", #"{"type":"message_stop"}"#)
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
            return ["type": "tool_use", "id": toolUseID(for: request, number: number), "name": name, "input": complete ? JSON.value(input) : [String: Any]()]
        }
    }

    private static func toolUseID(for request: FakeRequest, number: Int) -> String {
        number == 0 ? "toolu_fake_\(request.callNumber)" : "toolu_fake_\(request.callNumber)_\(number)"
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
