/// Reassembles a Messages API reply from its server-sent events, or reads it from a
/// whole JSON message when the server did not stream.
///
/// Events: `message_start` (input tokens), `content_block_start` (a `text` or `tool_use`
/// block at its `index`), `content_block_delta` (`text_delta` text or `input_json_delta`
/// partial JSON, for the block at `index`),
/// `message_delta` (stop reason and the cumulative output tokens), `message_stop`,
/// and `error` (an error part-way through, such as `overloaded_error`).
struct AnthropicReplyReader: Sendable {
    private(set) var content = ReplyBlocks()
    private(set) var usage = TokenUsage.zero
    private(set) var stopReason: String?
    /// The model that answered, as the message names it.
    private(set) var model: String?
    /// `message_stop` arrived.
    private(set) var stopped = false
    /// The body of an `error` event.
    private(set) var error: JSONValue?
    /// Characters of text and tool input received so far.
    var characters: Int { content.characters }
    /// A data line that was not JSON, kept for the error message.
    private(set) var malformed: String?

    /// Reads one event; returns whether it added characters to the reply.
    mutating func read(_ event: SSEEvent) -> Bool {
        if event.event == "content_block_delta", let grew = readDelta(event.data) { return grew }
        if Self.bare.contains(event.event), let grew = readBare(event.data, event: event.event) { return grew }
        guard let data = try? JSONParser.parse(event.data) else {
            if malformed == nil { malformed = String(event.data.prefix(200)) }
            return false
        }
        switch data["type"]?.stringValue ?? event.event {
        case "message_start":
            if let usage = data["message"]?["usage"] { readUsage(usage) }
            model = ModelReply.modelName(data["message"]?["model"]) ?? model
        case "content_block_start":
            if let block = data["content_block"] { return start(block, at: index(of: data)) }
        case "content_block_delta":
            let delta = data["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta": return content.append(delta?["text"]?.stringValue ?? "", at: index(of: data))
            case "input_json_delta": return content.append(delta?["partial_json"]?.stringValue ?? "", at: index(of: data))
            default: break
            }
        case "message_delta":
            if let reason = data["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            if let usage = data["usage"] { readUsage(usage) }
        case "message_stop":
            stopped = true
        case "error":
            error = data
        default:
            break  // ping, content_block_stop, and event types added later
        }
        return false
    }

    /// A `content_block_delta`, most of a reply's events, read as `read(_:)` reads it but
    /// without building its JSON tree (a third of the instructions); nil when its data is not
    /// that event's, or not JSON: `read(_:)` reads it whole then.
    private mutating func readDelta(_ data: String) -> Bool? {
        var type: JSONValue?, index: JSONValue?
        var delta: (type: JSONValue?, text: JSONValue?, partialJSON: JSONValue?)?
        let scanned: Void? = try? JSONScan.scan(data) { (scan) throws(JSONParseError) in
            guard scan.atObject else { throw JSONParseError(line: 1, column: 1, message: "not an object") }
            try scan.members { (key, value) throws(JSONParseError) in
                switch key {
                case "type": type = try value.value()
                case "index": index = try value.value()
                case "delta":
                    // A repeated member counts once, as its last value.
                    delta = nil
                    guard value.atObject else { return }
                    var members: (type: JSONValue?, text: JSONValue?, partialJSON: JSONValue?) = (nil, nil, nil)
                    try value.members { (key, value) throws(JSONParseError) in
                        switch key {
                        case "type": members.type = try value.value()
                        case "text": members.text = try value.value()
                        case "partial_json": members.partialJSON = try value.value()
                        default: break
                        }
                    }
                    delta = members
                default: break
                }
            }
        }
        guard scanned != nil, (type?.stringValue ?? "content_block_delta") == "content_block_delta" else { return nil }
        let at = index?.numberValue?.intValue ?? 0
        switch delta?.type?.stringValue {
        case "text_delta": return content.append(delta?.text?.stringValue ?? "", at: at)
        case "input_json_delta": return content.append(delta?.partialJSON?.stringValue ?? "", at: at)
        default: return false
        }
    }

    /// The events that say nothing but their type (three of a reply's eight or so).
    private static let bare: Set<String> = ["ping", "content_block_stop", "message_stop"]

    /// An event of the `bare` kinds (by its data's `type`, else by its name), read as
    /// `read(_:)` reads it but without its JSON tree; nil when its data is another event's,
    /// or not a JSON object: `read(_:)` reads it whole then.
    private mutating func readBare(_ data: String, event: String) -> Bool? {
        var type: JSONValue?
        let scanned: Void? = try? JSONScan.scan(data) { (scan) throws(JSONParseError) in
            guard scan.atObject else { throw JSONParseError(line: 1, column: 1, message: "not an object") }
            try scan.members { (key, value) throws(JSONParseError) in
                if key == "type" { type = try value.value() }
            }
        }
        let kind = type?.stringValue ?? event
        guard scanned != nil, Self.bare.contains(kind) else { return nil }
        if kind == "message_stop" { stopped = true }
        return false
    }

    static let wholeReply = (member: "content", name: "a message")

    /// Reads a whole (non-streamed) message.
    mutating func read(whole message: JSONValue) {
        for (index, block) in (message["content"]?.arrayValue ?? []).enumerated() {
            if block["type"]?.stringValue == "tool_use" {
                _ = content.startToolUse(at: index, id: block["id"]?.stringValue ?? "", name: block["name"]?.stringValue ?? "",
                    input: (block["input"] ?? [:]).serialized())
            } else {
                _ = start(block, at: index)
            }
        }
        if let usage = message["usage"] { readUsage(usage) }
        model = ModelReply.modelName(message["model"])
        stopReason = message["stop_reason"]?.stringValue
        stopped = true
    }

    /// The reply is complete: `message_stop`, or a stop reason from a proxy that drops
    /// the last event.
    var finished: Bool { stopped || stopReason != nil }

    /// Input tokens count those written to and read from the prompt cache too.
    private mutating func readUsage(_ usage: JSONValue) {
        let input = ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
            .compactMap { usage[$0]?.numberValue?.intValue }
        if !input.isEmpty { self.usage.input = input.reduce(0, +) }
        if let output = usage["output_tokens"]?.numberValue?.intValue { self.usage.output = output }
    }

    /// Starts a block: text with its first text, a tool call whose input follows as deltas
    /// (it starts as `{}`). Other blocks (thinking...) are not part of the reply.
    private mutating func start(_ block: JSONValue, at index: Int) -> Bool {
        switch block["type"]?.stringValue {
        case "text": return content.startText(at: index, block["text"]?.stringValue ?? "")
        case "tool_use":
            return content.startToolUse(at: index, id: block["id"]?.stringValue ?? "", name: block["name"]?.stringValue ?? "")
        default: return false
        }
    }

    private func index(of event: JSONValue) -> Int { event["index"]?.numberValue?.intValue ?? 0 }
}
