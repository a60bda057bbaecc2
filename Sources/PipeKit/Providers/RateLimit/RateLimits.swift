/// The rate limiters of the process: one per API model, that is per provider, model id and
/// endpoint (the resolved base URL), so that every call to it waits its turn: every stage and
/// `for_each` item of a run, every run of a batch, and two model names a spec declares for the
/// same API model. Where two names declare different limits, the lower of each holds.
///
/// `ProviderFactory` puts a model with a `rate_limit` behind its limiter; a model without
/// one is not paced (even if another name for the same API model is).
public final class RateLimits: Sendable {
    public static let shared = RateLimits()

    private struct State {
        var limiters: [APIModelKey: RateLimiter<ContinuousClock>] = [:]
        var workers = 1
    }

    private let state = Locked(State())

    init() {}

    /// Processes that call the same API with the same limits (batch workers on several
    /// machines) share them by dividing: with `workers` live processes each paces its calls at
    /// `1/workers` of every limit. Call it again whenever the count changes; it holds for the
    /// limiters made later too. 1 (the default): the process has the whole limit.
    public func share(among workers: Int) {
        let limiters = state.withLock { state in
            state.workers = max(1, workers)
            return Array(state.limiters.values)
        }
        for limiter in limiters { limiter.share(among: workers) }
    }

    /// `provider` behind the limiter of `model` at `baseURL`, if the model has a `rate_limit`.
    func pace(_ provider: any ModelProvider, model: ResolvedModel, baseURL: String) -> any ModelProvider {
        guard let limit = model.rateLimit else { return provider }
        let key = APIModelKey(model, baseURL: baseURL)
        let (limiter, isNew) = state.withLock { state in
            if let limiter = state.limiters[key] { return (limiter, false) }
            let limiter = RateLimiter(limit: limit, clock: ContinuousClock(), workers: state.workers)
            state.limiters[key] = limiter
            return (limiter, true)
        }
        if !isNew { limiter.tighten(to: limit) }
        return RateLimitedProvider(provider: provider, limiter: limiter)
    }
}

/// A provider whose calls wait for their model's rate limit, then tell it what they used.
/// The wait comes after the runtime's budget reservation and before the attempt's `timeout`
/// starts; a cancelled wait is a cancelled call.
struct RateLimitedProvider<C: Clock>: ModelProvider where C.Duration == Duration {
    let provider: any ModelProvider
    let limiter: RateLimiter<C>

    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        // Counted as the budget counts a call before it is made: the input estimate and max_tokens.
        let input = request.inputTokenEstimate(schemaCharacters: WorstCase.schemaCharacters(request.outputSchema))
        let ticket: RateLimiter<C>.Ticket
        do {
            ticket = try await limiter.acquire(tokens: input + request.maxTokens) { progress(.rateLimit($0)) }
        } catch {
            throw .cancelled
        }
        do {
            let reply = try await provider.complete(request, progress: progress)
            limiter.finish(ticket, tokens: reply.usage.total)
            return reply
        } catch {
            if case .status(429, _, _, let retryAfter) = error {
                limiter.rateLimited(ticket, retryAfter: retryAfter)
            } else {
                limiter.finish(ticket, tokens: input)
            }
            throw error
        }
    }
}

/// One API model: its provider, model id and endpoint (the resolved base URL). What the
/// process's rate limiters and circuit breakers are kept by.
struct APIModelKey: Hashable, Sendable {
    var provider: String
    var model: String
    var baseURL: String

    init(_ model: ResolvedModel, baseURL: String) {
        self.provider = model.provider.name
        self.model = model.model
        self.baseURL = baseURL
    }
}
