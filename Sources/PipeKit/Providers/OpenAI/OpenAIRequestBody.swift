/// The JSON body of a Chat Completions call (`POST {base}/chat/completions`), always
/// streamed with usage in the last chunk.
///
/// A structured stage asks for `response_format: json_schema` with `strict: true` when
/// the schema (wrapped in `{"value": ...}` if its root is not an object) fits the strict
/// subset (`OpenAIStrictSchema`); otherwise for `json_object` with the schema written into
/// the system message, which any OpenAI-compatible server understands.
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
        for message in request.messages {
            messages.append(["role": .string(message.role.rawValue), "content": .string(message.content)])
        }

        var body = JSONObject()
        body["model"] = .string(request.model.model)
        body["messages"] = .array(messages)
        body[maxTokensField(baseURL: baseURL)] = .number(JSONNumber(request.maxTokens))
        if let temperature = request.temperature { body["temperature"] = .number(JSONNumber(temperature)) }
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

    /// The instructions JSON mode needs (the API requires the word JSON in the messages).
    static func jsonInstructions(_ schema: ObjectRootSchema) -> String {
        if schema.isWrapped {
            return "Reply with only a JSON object of the form {\"value\": ...} whose value matches this JSON Schema:\n"
                + schema.original.serialized()
        }
        return "Reply with only a JSON value that matches this JSON Schema:\n" + schema.original.serialized()
    }
}
