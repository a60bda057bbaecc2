/// One part of a message: what the APIs call a content block.
public enum ContentBlock: Sendable, Hashable {
    case text(String)
    /// The model calls a tool: `id` (the API's, echoed by the result), the tool's name and its
    /// input. An input the model wrote as broken JSON is kept as the string it wrote.
    case toolUse(id: String, name: String, input: JSONValue)
    /// The result of a tool call, sent back in the next user message.
    case toolResult(toolUseID: String, content: String, isError: Bool)

    /// UTF-8 bytes of what the block sends (text, tool input as JSON, result), for estimates.
    public var characters: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .toolUse(_, let name, let input): name.utf8.count + input.serialized().utf8.count
        case .toolResult(_, let content, _): content.utf8.count
        }
    }

    /// The block as the Anthropic Messages API writes it, which is also how the store records
    /// it and the cache key counts it (`is_error` only when true).
    var json: JSONValue {
        switch self {
        case .text(let text): ["type": "text", "text": .string(text)]
        case .toolUse(let id, let name, let input): ["type": "tool_use", "id": .string(id), "name": .string(name), "input": input]
        case .toolResult(let id, let content, false): ["type": "tool_result", "tool_use_id": .string(id), "content": .string(content)]
        case .toolResult(let id, let content, true):
            ["type": "tool_result", "tool_use_id": .string(id), "content": .string(content), "is_error": true]
        }
    }
}

public struct ChatMessage: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case user, assistant
    }

    public var role: Role
    public var content: [ContentBlock]

    public init(_ role: Role, _ content: [ContentBlock]) {
        self.role = role
        self.content = content
    }

    /// A message of one text block.
    public init(_ role: Role, _ text: String) {
        self.init(role, [.text(text)])
    }

    /// The text blocks, joined.
    public var text: String {
        content.reduce(into: "") { text, block in
            if case .text(let piece) = block { text += piece }
        }
    }

    /// The message's one text, when it is a single text block: what a text-only API
    /// message's `content` string is.
    public var plainText: String? {
        guard content.count == 1, case .text(let text) = content[0] else { return nil }
        return text
    }

    /// UTF-8 bytes of everything the message sends, for estimates.
    public var characters: Int { content.reduce(0) { $0 + $1.characters } }

    /// The content as the Anthropic Messages API and the store write it: the text for a single
    /// text block (as before blocks existed, so requests, earlier records and cache keys stay
    /// the same), else the blocks.
    var contentJSON: JSONValue {
        plainText.map(JSONValue.string) ?? .array(content.map(\.json))
    }
}

/// A tool the model may call (besides the output tool a structured stage is given).
public struct ToolDefinition: Sendable, Hashable {
    /// `^[a-zA-Z0-9_-]{1,64}$` for both APIs.
    public var name: String
    public var description: String
    /// A JSON Schema whose root is an object.
    public var inputSchema: JSONValue

    /// The tool as the Anthropic Messages API writes it, which is also how the store records
    /// it and the cache key counts it.
    var json: JSONValue {
        ["name": .string(name), "description": .string(description), "input_schema": inputSchema]
    }
}

/// Why the model stopped, whatever the API calls it.
public enum StopReason: Sendable, Hashable {
    /// The model finished (Anthropic `end_turn`, OpenAI `stop`).
    case endTurn
    /// It reached `max_tokens` (OpenAI `length`).
    case maxTokens
    /// It called tools and waits for their results (OpenAI `tool_calls`).
    case toolUse
    /// It wrote one of the stop sequences.
    case stopSequence
    /// It declined, or the API filtered the reply (OpenAI `content_filter`).
    case refusal
    /// Another reason, as the API named it; empty when it named none.
    case other(String)

    /// Anthropic's `stop_reason`.
    init(anthropic name: String?) {
        switch name {
        case "end_turn": self = .endTurn
        case "max_tokens": self = .maxTokens
        case "tool_use": self = .toolUse
        case "stop_sequence": self = .stopSequence
        case "refusal": self = .refusal
        default: self = .other(name ?? "")
        }
    }

    /// OpenAI's `finish_reason`.
    init(openAI name: String?) {
        switch name {
        case "stop": self = .endTurn
        case "length": self = .maxTokens
        case "tool_calls", "function_call": self = .toolUse
        case "content_filter": self = .refusal
        default: self = .other(name ?? "")
        }
    }
}
