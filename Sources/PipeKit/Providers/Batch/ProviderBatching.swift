/// The provider batches of one `pipe batch` process (or `pipe worker`): one collector
/// (`ProviderBatcher`) per model and endpoint, shared by every item's calls. A model goes
/// through batches when `--provider-batch` is given or the spec sets `batch: true` on it, and
/// its provider has a batch API (`Provider.API.batch`); any other call stays real-time. On a
/// shared queue (`exchange`), each model's collector hands its requests to the worker that
/// leads the model's batches, and this process tries to lead them too (`ProviderBatchLead`).
public final class ProviderBatching: Sendable {
    let factory: ProviderFactory
    let options: ProviderBatchOptions
    /// `--provider-batch`: every model with a batch API, not only those with `batch: true`.
    let all: Bool
    let exchange: (any ProviderBatchExchange)?
    private let collectors = Locked([APIModelKey: ProviderBatcher]())
    private let leads = Locked([String: Task<Void, Never>]())

    public init(factory: ProviderFactory, options: ProviderBatchOptions, all: Bool, exchange: (any ProviderBatchExchange)? = nil) {
        self.factory = factory
        self.options = options
        self.all = all
        self.exchange = exchange
    }

    deinit {
        for lead in leads.withLock({ $0.values }) { lead.cancel() }
    }

    /// Whether `model`'s calls go into provider batches.
    public func batches(_ model: ResolvedModel) -> Bool {
        (all || model.batch) && !factory.forceMock && model.provider.hasBatchAPI
    }

    /// The provider for `model`'s calls: batched, or the factory's real-time one.
    public func provider(for model: ResolvedModel) throws(ProviderError) -> any ModelProvider {
        let realtime = try factory.provider(for: model)
        guard batches(model), let batchAPI = model.provider.api?.batch, let baseURL = factory.baseURL(for: model) else {
            return realtime
        }
        let endpoint = ProviderEndpoint(baseURL: baseURL, apiKey: try factory.apiKey(for: model, baseURL: baseURL), client: factory.client)
        let api = batchAPI.make(endpoint)
        let key = APIModelKey(model, baseURL: baseURL)
        let limits = batchAPI.limits.lowered(by: factory.environment)
        let (options, exchange) = (options, exchange)
        let collector = collectors.withLock { collectors in
            if let existing = collectors[key] { return existing }
            let made = ProviderBatcher(api: api, realtime: realtime, limits: limits, options: options, model: model.model, exchange: exchange)
            collectors[key] = made
            return made
        }
        if let exchange {
            leads.withLock { leads in
                let name = ProviderBatcher.key(provider: model.provider, model: model.model)
                guard leads[name] == nil else { return }
                let lead = ProviderBatchLead(api: api, limits: limits, options: options, model: model.model, exchange: exchange)
                leads[name] = Task { await lead.run() }
            }
        }
        return BatchingProvider(collector: collector)
    }

    /// Cancels provider batches (`pipe batch cancel`): each through its provider's API.
    public static func cancel(_ batches: [SubmittedProviderBatch], pipeline: CompiledPipeline, factory: ProviderFactory) async
        -> [(SubmittedProviderBatch, ProviderError?)]
    {
        var outcomes: [(SubmittedProviderBatch, ProviderError?)] = []
        let models = pipeline.stages.flatMap(\.models)
        for batch in batches {
            guard let model = models.first(where: { $0.provider.name == batch.provider && $0.model == batch.model }),
                let batchAPI = model.provider.api?.batch, let baseURL = factory.baseURL(for: model)
            else {
                outcomes.append((batch, .invalidRequest("no model \(batch.model) of \(batch.provider) in the spec")))
                continue
            }
            do throws(ProviderError) {
                let endpoint = ProviderEndpoint(
                    baseURL: baseURL, apiKey: try factory.apiKey(for: model, baseURL: baseURL), client: factory.client)
                try await batchAPI.make(endpoint).cancel(batch.id)
                outcomes.append((batch, nil))
            } catch {
                outcomes.append((batch, error))
            }
        }
        return outcomes
    }
}

extension CompiledPipeline {
    /// The pipeline with the price of every model that `batched` says goes into provider
    /// batches set to its batch price (`batch_input`/`batch_output`, else half), so that costs,
    /// budgets and `--max-cost-usd` count what the provider bills.
    public func atBatchPrices(_ batched: (ResolvedModel) -> Bool) -> CompiledPipeline {
        var copy = self
        func priced(_ model: ResolvedModel) -> ResolvedModel {
            guard batched(model), let price = model.price else { return model }
            var model = model
            model.price = price.batch
            return model
        }
        for index in copy.stages.indices {
            guard case .model(var stage) = copy.stages[index].kind else { continue }
            stage.model = priced(stage.model)
            stage.fallbacks = stage.fallbacks.map(priced)
            copy.stages[index].kind = .model(stage)
        }
        return copy
    }
}
