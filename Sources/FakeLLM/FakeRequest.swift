import Foundation

/// One request the fake server received, with what a test usually asks about it
/// already extracted from the JSON body.
public struct FakeRequest: Sendable {
    /// Which API a request path belongs to.
    public enum API: Sendable, Equatable {
        /// `POST /v1/messages`
        case anthropic
        /// `POST /v1/chat/completions`
        case openAI
        /// Any other path: answered with 404.
        case other
    }

    public let method: String
    /// The path without the query, e.g. `/v1/messages`.
    public let path: String
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// 1 for the first request this server received (since `resetLog`), then 2, ...
    public internal(set) var callNumber: Int
    /// 1 for the first TCP connection this server accepted, then 2, ...
    public let connectionNumber: Int

    public let api: API
    /// The `model` field of the body.
    public let model: String?
    /// The `model` a reply to it names (`FakeReply.answered(by:)`, else the request's).
    var answeringModel: String { answeredBy ?? model ?? "fake-model" }
    var answeredBy: String?
    /// Every text of the conversation joined with newlines: the system prompt, then
    /// each message's text, in order.
    public let prompt: String
    /// The system prompt (Anthropic `system`, or the OpenAI `system`/`developer` messages).
    public let system: String?
    /// Whether the body asks for a streamed reply (`"stream": true`).
    public let isStreaming: Bool
    /// OpenAI `stream_options.include_usage`.
    public let includeUsage: Bool
    /// `max_tokens`, or OpenAI's `max_completion_tokens`.
    public let maxTokens: Int?
    /// The tool the model must call: Anthropic `tool_choice` of type `tool` (or the last
    /// tool, pipe's output tool, for `any`), OpenAI `tool_choice` naming a function. nil when the model may answer in text.
    public let forcedTool: String?
    /// The JSON Schema the reply must match, as JSON text (sorted keys): the forced tool's
    /// input schema, or OpenAI's `response_format.json_schema.schema`. Written when asked for.
    public var replySchema: String? {
        schema.flatMap { schema in
            (try? JSONSerialization.data(withJSONObject: schema.value, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The reply's JSON Schema as parsed from the body: the default handler answers from it
    /// without writing it out and parsing it again (most of a request's cost when it did).
    var replySchemaValue: Any? { schema?.value }

    /// A parsed JSON value, never mutated once parsed.
    private struct ParsedJSON: @unchecked Sendable {
        let value: Any
    }

    private let schema: ParsedJSON?

    init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8], callNumber: Int, connectionNumber: Int) {
        self.method = method
        self.path = String(target.prefix { $0 != "?" })
        self.headers = headers
        self.body = body
        self.callNumber = callNumber
        self.connectionNumber = connectionNumber
        switch (method, path) {
        case ("POST", "/v1/messages"): api = .anthropic
        case ("POST", "/v1/chat/completions"): api = .openAI
        default: api = .other
        }
        let json = JSONReader.parse(body) as? [String: Any] ?? [:]
        model = json["model"] as? String
        isStreaming = json["stream"] as? Bool ?? false
        includeUsage = (json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        maxTokens = json["max_tokens"] as? Int ?? json["max_completion_tokens"] as? Int
        let extracted = api == .openAI ? Self.openAIParts(json) : Self.anthropicParts(json)
        system = extracted.system
        prompt = ([extracted.system].compactMap { $0 } + extracted.texts).joined(separator: "\n")
        forcedTool = extracted.forcedTool
        schema = extracted.schema.map(ParsedJSON.init)
    }

    /// The value of the first header named `name` (any case).
    public func header(_ name: String) -> String? {
        let key = name.lowercased()
        return headers.first { $0.name.lowercased() == key }?.value
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, nil if it is not one. Parsed on each call.
    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    // MARK: - Extraction

    private struct Parts {
        var system: String?
        var texts: [String] = []
        var forcedTool: String?
        var schema: Any?
    }

    /// The text of a `content` that is a string or an array of `{type: "text", text}` blocks.
    private static func text(of content: Any?) -> String? {
        if let string = content as? String { return string }
        guard let blocks = content as? [[String: Any]] else { return nil }
        let texts = blocks.compactMap { $0["text"] as? String }
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }

    private static func anthropicParts(_ json: [String: Any]) -> Parts {
        var parts = Parts()
        parts.system = text(of: json["system"])
        for message in json["messages"] as? [[String: Any]] ?? [] {
            if let text = text(of: message["content"]) { parts.texts.append(text) }
        }
        let tools = json["tools"] as? [[String: Any]] ?? []
        let choice = json["tool_choice"] as? [String: Any]
        switch choice?["type"] as? String {
        case "tool": parts.forcedTool = choice?["name"] as? String
        // pipe offers the output tool after the stage's own tools.
        case "any": parts.forcedTool = tools.last?["name"] as? String
        default: break
        }
        if let name = parts.forcedTool {
            parts.schema = tools.first { $0["name"] as? String == name }?["input_schema"]
        }
        return parts
    }

    private static func openAIParts(_ json: [String: Any]) -> Parts {
        var parts = Parts()
        var system: [String] = []
        for message in json["messages"] as? [[String: Any]] ?? [] {
            guard let text = text(of: message["content"]) else { continue }
            let role = message["role"] as? String
            if role == "system" || role == "developer" { system.append(text) } else { parts.texts.append(text) }
        }
        parts.system = system.isEmpty ? nil : system.joined(separator: "\n")
        if let choice = json["tool_choice"] as? [String: Any], let function = choice["function"] as? [String: Any] {
            parts.forcedTool = function["name"] as? String
            let tools = json["tools"] as? [[String: Any]] ?? []
            let tool = tools.first { ($0["function"] as? [String: Any])?["name"] as? String == parts.forcedTool }
            parts.schema = (tool?["function"] as? [String: Any])?["parameters"]
        } else if let format = json["response_format"] as? [String: Any],
            let schema = (format["json_schema"] as? [String: Any])?["schema"]
        {
            parts.schema = schema
        }
        return parts
    }
}
