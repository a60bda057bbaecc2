/// The JSON body of a Messages API call (`POST /v1/messages`), always streamed.
///
/// A structured stage gets an output tool named after the stage whose `input_schema` is the
/// output schema (wrapped when its root is not an object), so the reply is the tool's input:
/// forced when it is the only tool, else after the request's own tools with `tool_choice:
/// any` (the model calls a tool or answers). A message of one text block has a string
/// `content`; any other, an array of `text`, `tool_use` and `tool_result` blocks.
enum AnthropicRequestBody {
    static func make(_ request: ModelRequest, schema: ObjectRootSchema?) -> JSONValue {
        var body = JSONObject()
        body["model"] = .string(request.model.model)
        body["max_tokens"] = .number(JSONNumber(request.maxTokens))
        if let system = request.system, !system.isEmpty { body["system"] = .string(system) }
        body["messages"] = .array(
            request.messages.map { message in
                ["role": .string(message.role.rawValue), "content": message.contentJSON]
            })
        if let temperature = request.temperature { body["temperature"] = .number(JSONNumber(temperature)) }
        var tools = request.tools.map(\.json)
        if let schema {
            let name = ProviderNames.sanitized(request.stageName)
            tools.append([
                "name": .string(name),
                "description": .string(
                    "Return the output of the stage `\(request.stageName)`. The input is the output itself and must match the schema."),
                "input_schema": schema.schema,
            ])
            body["tools"] = .array(tools)
            body["tool_choice"] = request.tools.isEmpty ? ["type": "tool", "name": .string(name)] : ["type": "any"]
        } else if !tools.isEmpty {
            body["tools"] = .array(tools)
        }
        body["stream"] = true
        return .object(body)
    }
}
