/// The JSON body of a Messages API call (`POST /v1/messages`), always streamed.
///
/// A structured stage forces a single tool named after the stage whose `input_schema`
/// is the output schema (wrapped when its root is not an object), so the reply is the
/// tool's input.
enum AnthropicRequestBody {
    static func make(_ request: ModelRequest, schema: ObjectRootSchema?) -> JSONValue {
        var body = JSONObject()
        body["model"] = .string(request.model.model)
        body["max_tokens"] = .number(JSONNumber(request.maxTokens))
        if let system = request.system, !system.isEmpty { body["system"] = .string(system) }
        body["messages"] = .array(
            request.messages.map { message in
                ["role": .string(message.role.rawValue), "content": .string(message.content)]
            })
        if let temperature = request.temperature { body["temperature"] = .number(JSONNumber(temperature)) }
        if let schema {
            let name = ProviderNames.sanitized(request.stageName)
            body["tools"] = [
                [
                    "name": .string(name),
                    "description": .string(
                        "Return the output of the stage `\(request.stageName)`. The input is the output itself and must match the schema."),
                    "input_schema": schema.schema,
                ]
            ]
            body["tool_choice"] = ["type": "tool", "name": .string(name)]
        }
        body["stream"] = true
        return .object(body)
    }
}
