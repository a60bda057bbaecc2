/// Reassembles a Chat Completions reply from its streamed chunks, or reads it from a
/// whole completion when the server did not stream.
///
/// Each chunk is `data: {...}` with `choices[0].delta.content` (or `refusal`), or
/// `choices[0].delta.tool_calls` (a call's `index`; its `id` and `function.name` first, then
/// pieces of `function.arguments`), and, at the end, `finish_reason`; with `include_usage` a last chunk has empty `choices` and the
/// `usage`; `data: [DONE]` ends the stream. A chunk with an `error` member is an error
/// part-way through.
struct OpenAIReplyReader: Sendable, StreamedReplyReader {
    private(set) var content = ReplyBlocks()
    private(set) var refusal = ""
    private(set) var usage: TokenUsage?
    private(set) var stopReason: String?
    /// The model that answered, as the chunks name it.
    private(set) var model: String?
    /// `[DONE]` arrived.
    private(set) var done = false
    private(set) var error: JSONValue?
    var characters: Int { content.characters }
    private(set) var malformed: String?

    /// The stream is complete: `[DONE]`, or a finish reason from a server that sends no `[DONE]`.
    var finished: Bool { done || stopReason != nil }

    mutating func read(_ event: SSEEvent) -> Bool {
        let data = event.data.trimmingSpaces
        if data == "[DONE]" {
            done = true
            return false
        }
        guard let chunk = try? JSONParser.parse(data) else {
            if malformed == nil { malformed = String(data.prefix(200)) }
            return false
        }
        if event.event == "error" || chunk["error"].map({ !$0.isNull }) == true {
            error = chunk["error"] == nil ? ["error": chunk] : chunk
            return false
        }
        readUsage(chunk["usage"])
        if model == nil { model = ModelReply.modelName(chunk["model"]) }
        var grew = false
        for choice in chunk["choices"]?.arrayValue ?? [] where (choice["index"]?.numberValue?.intValue ?? 0) == 0 {
            if let piece = choice["delta"]?["content"]?.stringValue, content.append(piece, at: Self.textIndex) { grew = true }
            for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] where read(call: call) { grew = true }
            if let piece = choice["delta"]?["refusal"]?.stringValue { refusal += piece }
            if let reason = choice["finish_reason"]?.stringValue { stopReason = reason }
        }
        return grew
    }

    static let wholeReply = (member: "choices", name: "a completion")

    /// Reads a whole (non-streamed) completion.
    mutating func read(whole completion: JSONValue) {
        let choice = completion["choices"]?[0]
        _ = content.append(choice?["message"]?["content"]?.stringValue ?? "", at: Self.textIndex)
        for (index, call) in (choice?["message"]?["tool_calls"]?.arrayValue ?? []).enumerated() {
            _ = content.startToolUse(at: index, id: call["id"]?.stringValue ?? "", name: call["function"]?["name"]?.stringValue ?? "",
                input: call["function"]?["arguments"]?.stringValue ?? "")
        }
        refusal += choice?["message"]?["refusal"]?.stringValue ?? ""
        stopReason = choice?["finish_reason"]?.stringValue
        model = ModelReply.modelName(completion["model"])
        readUsage(completion["usage"])
        done = true
    }

    /// The text comes before the tool calls (indexed from 0).
    private static let textIndex = -1

    /// A piece of a streamed tool call: the first one names the call.
    private mutating func read(call: JSONValue) -> Bool {
        let index = call["index"]?.numberValue?.intValue ?? 0
        let arguments = call["function"]?["arguments"]?.stringValue ?? ""
        if let name = call["function"]?["name"]?.stringValue {
            return content.startToolUse(at: index, id: call["id"]?.stringValue ?? "", name: name, input: arguments)
        }
        return content.append(arguments, at: index)
    }

    private mutating func readUsage(_ usage: JSONValue?) {
        guard let usage, usage.objectValue != nil else { return }
        self.usage = TokenUsage(
            input: usage["prompt_tokens"]?.numberValue?.intValue ?? 0,
            output: usage["completion_tokens"]?.numberValue?.intValue ?? 0)
    }
}
