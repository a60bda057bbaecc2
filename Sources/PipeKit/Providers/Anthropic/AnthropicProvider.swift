/// Anthropic's Messages API (`POST {base}/v1/messages`), streamed.
///
/// A text stage gets the text blocks of the reply. A structured stage forces a tool
/// whose input schema is the output schema, and gets that tool's input, found by its name,
/// as JSON text (unwrapped from `{"value": ...}` when the schema's root is not an object).
public struct AnthropicProvider: HTTPModelProvider {
    public static let apiVersion = "2023-06-01"
    public static let defaultBaseURL = "https://api.anthropic.com"

    static var provider: Provider { .anthropic }
    /// Its base URL is without `/v1`, as `ANTHROPIC_BASE_URL`.
    let endpoint: ProviderEndpoint

    static func keyHeader(_ key: APIKey) -> (name: String, value: String) { ("x-api-key", key.value) }

    var messagesURL: String { ProviderURL.join(baseURL, "/v1/messages") }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        let reader: AnthropicReplyReader = try await stream(
            AnthropicRequestBody.make(request, schema: schema), to: messagesURL, headers: ["anthropic-version": Self.apiVersion],
            for: request, progress: progress)
        return try await reply(from: reader, request: request, schema: schema)
    }

    func reply(from reader: AnthropicReplyReader, request: ModelRequest, schema: ObjectRootSchema?)
        async throws(ProviderError) -> ModelReply
    {
        guard let answer = try reader.content.answer(to: request, schema: schema, mapper: mapper) else {
            let missing = schema == nil ? "no text" : "no tool input and no text"
            throw mapper.invalidResponse("the reply has \(missing) (stop reason: \(reader.stopReason ?? "none"))")
        }
        return await reader.content.reply(
            answering: answer, stopReason: StopReason(anthropic: reader.stopReason), usage: reader.usage, model: reader.model,
            mapper: mapper)
    }
}

extension AnthropicReplyReader: StreamedReplyReader {}
