/// The offline provider: answers every call at once with a deterministic value that
/// matches the stage's output schema (a readable sentence for a text stage). `pipe run
/// --mock` replaces every model with it, so a pipeline runs with no key and no network.
public struct MockProvider: ModelProvider {
    public init() {}

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        let text: String
        if let schema = request.outputSchema {
            text = MockValueGenerator(schema: schema).value().serialized()
        } else {
            let prompt = request.messages.first?.content ?? ""
            let excerpt = prompt.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            text = "Mock output of stage \(request.stageName) (\(request.model.name)), for: \(excerpt.prefix(80))"
        }
        progress(StreamProgress(characters: text.count))
        let sent = (request.system ?? "") + request.messages.map(\.content).joined()
        return ModelReply(
            text: text,
            usage: TokenUsage(input: TokenEstimate.tokens(for: sent), output: min(TokenEstimate.tokens(for: text), request.maxTokens)),
            stopReason: "end_turn")
    }
}
