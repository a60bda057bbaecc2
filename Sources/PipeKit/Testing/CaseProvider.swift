/// The provider of one test case: each stage's scripted answers (`mocks:`) in turn, then
/// `fallback` (a replay cassette, or the mock provider with the stages' `mock:` values).
/// It never opens a socket. The items of a `for_each` each go through the script from its
/// start, so that the order in which they call does not change what they get.
final class CaseProvider: ModelProvider {
    let scripts: [String: [MockAnswer]]
    let fallback: any ModelProvider
    private let calls = Locked<[RunUnitID: Int]>([:])

    init(scripts: [String: [MockAnswer]], fallback: any ModelProvider) {
        self.scripts = scripts
        self.fallback = fallback
    }

    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        let key = RunUnitID(stage: request.stageName, item: request.unit.item)
        let call = calls.withLock { calls in
            calls[key, default: 0] += 1
            return calls[key]!
        }
        guard let script = scripts[request.stageName], call <= script.count else {
            return try await fallback.complete(request, progress: progress)
        }
        let text: String
        switch script[call - 1] {
        case .error(let error, _): throw error.providerError(for: request.model)
        case .reply(let raw, _): text = raw
        case .value(let value, _): text = TemplateRenderer.text(of: value)
        }
        progress(StreamProgress(characters: text.count))
        let sent = (request.system ?? "") + request.messages.map(\.text).joined()
        return ModelReply(
            text: text,
            usage: TokenUsage(input: TokenEstimate.tokens(for: sent), output: min(TokenEstimate.tokens(for: text), request.maxTokens)))
    }
}
