/// The JSON body of a Chat Completions call (`POST {base}/chat/completions`), always
/// streamed with usage in the last chunk.
///
/// A structured stage asks for `response_format: json_schema` with `strict: true` when
/// the schema (wrapped in `{"value": ...}` if its root is not an object) fits the strict
/// subset (`OpenAIStrictSchema`); otherwise for `json_object` with the schema written into
/// the system message, which any OpenAI-compatible server understands. The request's
/// tools are `function` tools; tool calls and results travel as `messages(of:)` says.
enum OpenAIRequestBody {
    /// How a structured stage's reply is constrained.
    enum Mode: Equatable {
        case text
        case strictSchema
        case jsonObject
    }

    /// `max_completion_tokens` for api.openai.com, where `max_tokens` is deprecated and
    /// refused by reasoning models; `max_tokens` elsewhere, since OpenAI-compatible servers
    /// (Ollama, vLLM, llama.cpp, LiteLLM) know that one and some ignore the other.
    static func maxTokensField(baseURL: String) -> String {
        ProviderURL.host(of: baseURL) == "api.openai.com" ? "max_completion_tokens" : "max_tokens"
    }

    static func mode(for schema: ObjectRootSchema?) -> Mode {
        guard let schema else { return .text }
        return OpenAIStrictSchema.fits(schema.closingWrapper) ? .strictSchema : .jsonObject
    }

    static func make(_ request: ModelRequest, schema: ObjectRootSchema?, baseURL: String) -> JSONValue {
        let mode = mode(for: schema)
        var system = request.system ?? ""
        if mode == .jsonObject, let schema {
            if !system.isEmpty { system += "\n\n" }
            system += jsonInstructions(schema)
        }
        var messages: [JSONValue] = []
        if !system.isEmpty { messages.append(["role": "system", "content": .string(system)]) }
        for message in request.messages { messages += Self.messages(of: message) }

        var body = JSONObject()
        body["model"] = .string(request.model.model)
        body["messages"] = .array(messages)
        body[maxTokensField(baseURL: baseURL)] = .number(JSONNumber(request.maxTokens))
        if let temperature = request.temperature { body["temperature"] = .number(JSONNumber(temperature)) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "type": "function",
                        "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.inputSchema],
                    ]
                })
        }
        switch mode {
        case .text: break
        case .strictSchema:
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": [
                    "name": .string(ProviderNames.sanitized(request.stageName)),
                    "strict": true,
                    "schema": schema?.closingWrapper ?? [:],
                ],
            ]
        case .jsonObject:
            body["response_format"] = ["type": "json_object"]
        }
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        return .object(body)
    }

    /// The API's messages for one of ours: a message of one text block is `{role, content}`
    /// with its text; otherwise its tool results come first, each a `role: tool` message (an
    /// error's content starting with `Error: `, the API having no flag for it), then its
    /// text and tool calls (an assistant's `tool_calls`, `content` null when it has no text).
    static func messages(of message: ChatMessage) -> [JSONValue] {
        if let text = message.plainText { return [["role": .string(message.role.rawValue), "content": .string(text)]] }
        var messages: [JSONValue] = []
        var calls: [JSONValue] = []
        for block in message.content {
            switch block {
            case .text: break
            case .toolUse(let id, let name, let input):
                // `arguments` is JSON text; an input kept as the broken text the model wrote goes back as written.
                let arguments = input.stringValue ?? input.serialized()
                calls.append(["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]])
            case .toolResult(let id, let content, let isError):
                messages.append(["role": "tool", "tool_call_id": .string(id), "content": .string(isError ? "Error: " + content : content)])
            }
        }
        let text = message.text
        guard !text.isEmpty || !calls.isEmpty else { return messages }
        var rest = JSONObject()
        rest["role"] = .string(message.role.rawValue)
        rest["content"] = text.isEmpty ? .null : .string(text)
        if !calls.isEmpty { rest["tool_calls"] = .array(calls) }
        return messages + [.object(rest)]
    }

    /// The instructions JSON mode needs (the API requires the word JSON in the messages).
    static func jsonInstructions(_ schema: ObjectRootSchema) -> String {
        if schema.isWrapped {
            return "Reply with only a JSON object of the form {\"value\": ...} whose value matches this JSON Schema:\n"
                + schema.original.serialized()
        }
        return "Reply with only a JSON value that matches this JSON Schema:\n" + schema.original.serialized()
    }
}
