/// The offline provider: answers every call at once with a deterministic value that
/// matches the stage's output schema (a readable sentence for a text stage), or with the
/// stage's `mock:` values in turn (the last one repeats), so that loops and conditions can
/// take both branches. `pipe run --mock` replaces every model with it, so a pipeline runs
/// with no key and no network. The items of a batch each take the values from the first, as
/// separate `pipe run --mock` runs would.
public final class MockProvider: ModelProvider {
    let replies: [String: [JSONValue]]
    /// Calls made so far, by batch item (nil outside a batch) and stage.
    private let calls = Locked<[CallsOf: Int]>([:])

    private struct CallsOf: Hashable {
        var item: Int?
        var stage: String
    }

    public init(replies: [String: [JSONValue]] = [:]) {
        self.replies = replies
    }

    public func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        if Task.isCancelled { throw .cancelled }
        let text: String
        // A child spec's stage is `team/researcher`, whatever the item or iteration of `team`.
        let stage = request.unit.stagePath
        let key = CallsOf(item: ProviderBatchItem.index, stage: stage)
        let call = calls.withLock { calls in
            calls[key, default: 0] += 1
            return calls[key]!
        }
        if let fixed = replies[stage], !fixed.isEmpty {
            // The items of a `for_each` run at once: each takes the value of its index, so the
            // output does not depend on which call is made first.
            let position = request.unit.item.map { $0 + 1 } ?? call
            let value = fixed[min(position, fixed.count) - 1]
            // A scripted tool call (`- tool: git.git_log`): the reply asks for it, and the run makes it.
            if let scripted = MockToolCall(value), let tool = scripted.tool.tool, !request.tools.isEmpty {
                let name = ToolNames.apiName(
                    server: scripted.tool.server, tool: tool, avoiding: [ProviderNames.sanitized(request.stageName)])
                return ModelReply(
                    content: [.toolUse(id: "mock_\(request.stageName)_\(call)", name: name, input: scripted.arguments)],
                    stopReason: .toolUse, usage: TokenUsage(input: 0, output: 0), answerText: "")
            }
            text = TemplateRenderer.text(of: value)
        } else if let schema = request.outputSchema {
            text = MockValueGenerator(schema: schema).value().serialized()
        } else {
            let prompt = request.messages.first?.text ?? ""
            let excerpt = prompt.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            text = "Mock output of stage \(request.stageName) (\(request.model.name)), for: \(excerpt.prefix(80))"
        }
        progress(StreamProgress(characters: text.count))
        let sent = (request.system ?? "") + request.messages.map(\.text).joined()
        return ModelReply(
            text: text,
            usage: TokenUsage(input: TokenEstimate.tokens(for: sent), output: min(TokenEstimate.tokens(for: text), request.maxTokens)),
            stopReason: .endTurn)
    }
}
