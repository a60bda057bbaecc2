/// The side of a shared queue's provider batches that submits them: in every worker whose
/// items send a model's calls through batches, one of these tries to lead the model's
/// batches (`ProviderBatchExchange.lead`: a PostgreSQL advisory lock per batch and model);
/// the one that holds the lead collects the requests every worker handed in, submits them as
/// provider batches within the provider's limits (recorded before they are polled), polls
/// them and writes each result back. A worker that takes the lead over first polls the
/// batches its predecessor recorded and did not collect: they are never submitted twice.
actor ProviderBatchLead {
    private let api: any ProviderBatchAPI
    private let limits: ProviderBatchLimits
    private let options: ProviderBatchOptions
    private let model: String
    private let key: String
    private let exchange: any ProviderBatchExchange
    /// The batches being polled here.
    private var polling: Set<String> = []

    init(api: any ProviderBatchAPI, limits: ProviderBatchLimits, options: ProviderBatchOptions, model: String, exchange: any ProviderBatchExchange) {
        self.api = api
        self.limits = limits
        self.options = options
        self.model = model
        key = ProviderBatcher.key(provider: api.provider, model: model)
        self.exchange = exchange
    }

    /// How often a worker that does not lead tries to take the lead.
    static let retry = Duration.seconds(1)

    /// Leads when it can, until cancelled.
    func run() async {
        var leading = false
        var firstSeen: ContinuousClock.Instant?
        while !Task.isCancelled {
            let lead = (try? await exchange.lead(model: key)) ?? false
            if !lead {
                leading = false
                if (try? await Task.sleep(for: Self.retry)) == nil { return }
                continue
            }
            if !leading {
                leading = true
                for batch in (try? await exchange.inFlight(model: key)) ?? [] where !polling.contains(batch.id) {
                    options.reattached(batch)
                    poll(batch)
                }
            }
            if (try? await Task.sleep(for: options.window)) == nil { return }
            guard let backlog = try? await exchange.backlog(model: key), backlog.requests > 0 else {
                firstSeen = nil
                continue
            }
            // Submitted once every item in flight, on every worker, waits on a batched request
            // (none can add one to this round: a slower worker's items are not left for the
            // next batch), or `maxCollect` after the first request, or a batch is full.
            let now = ContinuousClock.now
            if firstSeen == nil { firstSeen = now }
            let ready =
                backlog.busyItems == 0 || now - (firstSeen ?? now) >= options.maxCollect || backlog.requests >= limits.maxRequests
            guard ready, let requests = try? await exchange.pending(model: key, limit: limits.maxRequests * 4) else { continue }
            firstSeen = nil
            for batch in limits.split(requests) { await submit(batch) }
        }
    }

    private func submit(_ batch: [BatchedRequest]) async {
        let id: String
        do throws(ProviderError) {
            try await options.beforeSubmit(batch.count)
            id = try await api.submit(batch)
        } catch {
            let text = ProviderBatchResultText.encode(.errored(error))
            try? await exchange.answer(Dictionary(batch.map { ($0.customID, text) }, uniquingKeysWith: { a, _ in a }), model: key)
            return
        }
        let submitted = SubmittedProviderBatch(id: id, provider: api.provider.name, model: model, customIDs: batch.map(\.customID))
        // Recorded before it is polled; if that fails, this lead still polls it.
        try? await exchange.submitted(submitted, model: key)
        await options.submitted(submitted)
        poll(submitted)
    }

    private func poll(_ batch: SubmittedProviderBatch) {
        polling.insert(batch.id)
        Task { await self.collect(batch) }
    }

    /// Polls a batch to its end and writes its results back (an error for each of its
    /// requests if it failed; canceled for a request its results leave out).
    private func collect(_ batch: SubmittedProviderBatch) async {
        let outcome = await ProviderBatchPolling.results(of: batch, api: api, options: options)
        var texts: [String: String] = [:]
        texts.reserveCapacity(batch.customIDs.count)
        switch outcome {
        case .success(let results):
            for id in batch.customIDs { texts[id] = ProviderBatchResultText.encode(results[id] ?? .canceled) }
        case .failure(.cancelled):
            // This worker is stopping: the batch stays in flight for the next lead.
            polling.remove(batch.id)
            return
        case .failure(let error):
            let text = ProviderBatchResultText.encode(.errored(error))
            for id in batch.customIDs { texts[id] = text }
        }
        // All written back at once (one transaction), or none: then the batch stays in
        // flight, and the next lead reads it again.
        let written = (try? await exchange.answer(texts, model: key)) != nil
        polling.remove(batch.id)
        guard written else { return }
        try? await exchange.collected(batch.id)
        await options.collected(batch)
    }
}
