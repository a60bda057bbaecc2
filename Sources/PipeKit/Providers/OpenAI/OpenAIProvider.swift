/// OpenAI's Chat Completions API (`POST {base}/chat/completions`, the base including
/// `/v1`), streamed; works with any OpenAI-compatible server through `base_url` (Ollama,
/// vLLM, llama.cpp, LiteLLM).
///
/// A structured stage uses strict Structured Outputs when its schema allows, JSON mode
/// otherwise (see `OpenAIRequestBody`): its answer is the text, or a call of the function
/// named after the stage when a server answers that way. A server that reports no usage
/// gets its usage estimated from the characters sent and received, so budgets still count
/// something.
public struct OpenAIProvider: ModelProvider {
    public static let defaultBaseURL = "https://api.openai.com/v1"

    /// Including `/v1`, as `OPENAI_BASE_URL`.
    public let baseURL: String
    /// Nil for a local server that needs none: no `Authorization` header is sent.
    public let apiKey: APIKey?
    public let client: HTTPClient

    public init(baseURL: String = OpenAIProvider.defaultBaseURL, apiKey: APIKey?, client: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.client = client
    }

    public var completionsURL: String { ProviderURL.join(baseURL, "/chat/completions") }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        let mapper = ProviderErrorMapper(provider: .openai, apiKey: apiKey)
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        let body = OpenAIRequestBody.make(request, schema: schema, baseURL: baseURL)
        var headers: HTTPHeaders = ["content-type": "application/json", "accept": "text/event-stream"]
        if let apiKey { headers.set(name: "authorization", value: "Bearer \(apiKey.value)") }
        let httpRequest = HTTPRequest(url: completionsURL, headers: headers, body: body.serialized(), timeout: request.timeout,
            maxResponseBytes: ReplyLimit.bodyBytes(maxTokens: request.maxTokens))

        var (reader, response) = try await StreamingCall.run(
            httpRequest, client: client, mapper: mapper, reader: OpenAIReplyReader.self, progress: progress)
        if !response.body.isEmpty {
            guard let completion = try? JSONParser.parse(response.body), completion["choices"] != nil else {
                throw mapper.invalidResponse("expected a completion or an event stream, got: \(ProviderErrorMapper.clipped(response.text))")
            }
            reader.read(completion: completion)
            progress(StreamProgress(characters: reader.characters))
        } else if !reader.finished {
            if let malformed = reader.malformed { throw mapper.invalidResponse("an event is not JSON: \(malformed)") }
            throw StreamingCall.incomplete
        }

        guard let answer = try reader.content.answer(to: request, schema: schema, mapper: mapper) else {
            if !reader.refusal.isEmpty { throw mapper.invalidResponse("the model refused: \(ProviderErrorMapper.clipped(reader.refusal))") }
            throw mapper.invalidResponse("the reply has no content (finish reason: \(reader.stopReason ?? "none"))")
        }
        let usage = reader.usage ?? TokenUsage(
            input: TokenEstimate.tokens(for: body["messages"]?.serialized() ?? ""),
            output: TokenEstimate.tokens(forCharacters: reader.content.utf8Count))
        return await reader.content.reply(
            answering: answer, stopReason: StopReason(openAI: reader.stopReason), usage: usage, mapper: mapper)
    }
}
