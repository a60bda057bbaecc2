/// Anthropic's Messages API (`POST {base}/v1/messages`), streamed.
///
/// A text stage gets the text blocks of the reply. A structured stage forces a tool
/// whose input schema is the output schema, and gets that tool's input, found by its name,
/// as JSON text (unwrapped from `{"value": ...}` when the schema's root is not an object).
public struct AnthropicProvider: ModelProvider {
    public static let apiVersion = "2023-06-01"
    public static let defaultBaseURL = "https://api.anthropic.com"

    /// Without `/v1`, as `ANTHROPIC_BASE_URL`.
    public let baseURL: String
    /// Nil for a local server that needs none.
    public let apiKey: APIKey?
    public let client: HTTPClient

    public init(baseURL: String = AnthropicProvider.defaultBaseURL, apiKey: APIKey?, client: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.client = client
    }

    public var messagesURL: String { ProviderURL.join(baseURL, "/v1/messages") }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        let mapper = ProviderErrorMapper(provider: .anthropic, apiKey: apiKey)
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        let body = AnthropicRequestBody.make(request, schema: schema)
        var headers: HTTPHeaders = [
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": Self.apiVersion,
        ]
        if let apiKey { headers.set(name: "x-api-key", value: apiKey.value) }
        let httpRequest = HTTPRequest(url: messagesURL, headers: headers, body: body.serialized(), timeout: request.timeout,
            maxResponseBytes: ReplyLimit.bodyBytes(maxTokens: request.maxTokens))

        var (reader, response) = try await StreamingCall.run(
            httpRequest, client: client, mapper: mapper, reader: AnthropicReplyReader.self, progress: progress)
        if !response.body.isEmpty {
            guard let message = try? JSONParser.parse(response.body), message["content"] != nil else {
                throw mapper.invalidResponse("expected a message or an event stream, got: \(ProviderErrorMapper.clipped(response.text))")
            }
            reader.read(message: message)
            progress(StreamProgress(characters: reader.characters))
        } else if !reader.finished {
            if let malformed = reader.malformed { throw mapper.invalidResponse("an event is not JSON: \(malformed)") }
            throw StreamingCall.incomplete
        }
        return try await reply(from: reader, request: request, schema: schema, mapper: mapper)
    }

    private func reply(from reader: AnthropicReplyReader, request: ModelRequest, schema: ObjectRootSchema?, mapper: ProviderErrorMapper)
        async throws(ProviderError) -> ModelReply
    {
        guard let answer = try reader.content.answer(to: request, schema: schema, mapper: mapper) else {
            let missing = schema == nil ? "no text" : "no tool input and no text"
            throw mapper.invalidResponse("the reply has \(missing) (stop reason: \(reader.stopReason ?? "none"))")
        }
        return await reader.content.reply(
            answering: answer, stopReason: StopReason(anthropic: reader.stopReason), usage: reader.usage, mapper: mapper)
    }
}

extension AnthropicReplyReader: StreamedReplyReader {}
