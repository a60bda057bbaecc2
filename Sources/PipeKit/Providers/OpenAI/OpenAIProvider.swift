/// OpenAI's Chat Completions API (`POST {base}/chat/completions`, the base including
/// `/v1`), streamed; works with any OpenAI-compatible server through `base_url` (Ollama,
/// vLLM, llama.cpp, LiteLLM).
///
/// A structured stage uses strict Structured Outputs when its schema allows, JSON mode
/// otherwise (see `OpenAIRequestBody`): its answer is the text, or a call of the function
/// named after the stage when a server answers that way. A server that reports no usage
/// gets its usage estimated from the characters sent and received, so budgets still count
/// something.
public struct OpenAIProvider: HTTPModelProvider {
    public static let defaultBaseURL = "https://api.openai.com/v1"

    static var provider: Provider { .openai }
    /// Its base URL includes `/v1`, as `OPENAI_BASE_URL`; a local server may need no key: then
    /// no `Authorization` header is sent.
    let endpoint: ProviderEndpoint

    static func keyHeader(_ key: APIKey) -> (name: String, value: String) { ("authorization", "Bearer \(key.value)") }

    var completionsURL: String { ProviderURL.join(baseURL, "/chat/completions") }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        let body = OpenAIRequestBody.make(request, schema: schema, baseURL: baseURL)
        let reader: OpenAIReplyReader = try await stream(body, to: completionsURL, for: request, progress: progress)
        return try await reply(from: reader, request: request, schema: schema, body: body)
    }

    /// The reply a reader read, streamed or whole (a provider batch's result), to `body`.
    func reply(from reader: OpenAIReplyReader, request: ModelRequest, schema: ObjectRootSchema?, body: JSONValue)
        async throws(ProviderError) -> ModelReply
    {
        guard let answer = try reader.content.answer(to: request, schema: schema, mapper: mapper) else {
            if !reader.refusal.isEmpty { throw mapper.invalidResponse("the model refused: \(ProviderErrorMapper.clipped(reader.refusal))") }
            throw mapper.invalidResponse("the reply has no content (finish reason: \(reader.stopReason ?? "none"))")
        }
        let usage = reader.usage ?? TokenUsage(
            input: TokenEstimate.tokens(for: body["messages"]?.serialized() ?? ""),
            output: TokenEstimate.tokens(forCharacters: reader.content.utf8Count))
        return await reader.content.reply(
            answering: answer, stopReason: StopReason(openAI: reader.stopReason), usage: usage, model: reader.model, mapper: mapper)
    }
}
