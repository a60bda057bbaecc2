/// What `pipe batch --provider-batch` sets: how requests are collected into provider
/// batches, how long to poll, what to do with requests that did not get an answer, and who
/// hears about each batch.
public struct ProviderBatchOptions: Sendable {
    /// Where a request goes when its provider batch errored it (a transient error), or it
    /// expired or was canceled.
    public enum Fallback: String, Sendable, CaseIterable {
        /// Into the next provider batch (at the batch price), up to `maxResubmits` times.
        case batch
        /// A real-time call at once (at the real-time price).
        case realtime
    }

    /// A batch is submitted once no new request has come for this long (the items in flight
    /// have all reached the stage), or `maxCollect` after its first request.
    public var window: Duration = .milliseconds(300)
    public var maxCollect: Duration = .seconds(10)
    /// The first wait between two polls of a batch; each next one is 1.5 times longer, up to `maxPoll`.
    public var firstPoll: Duration = .milliseconds(250)
    public var maxPoll: Duration = .seconds(60)
    public var fallback: Fallback = .batch
    /// How many times one request goes into a new batch after it expired, was canceled or errored.
    public var maxResubmits = 3
    /// Told before a batch is submitted; a throw stops it (the cost limit): its requests fail with the error.
    public var beforeSubmit: @Sendable (_ requests: Int) async throws(ProviderError) -> Void = { _ throws(ProviderError) in }
    /// Told once a batch is created, before it is polled (the run store records it).
    public var submitted: @Sendable (_ batch: SubmittedProviderBatch) async -> Void = { _ in }
    /// Told once a batch's results were handed to the requests waiting for them.
    public var collected: @Sendable (_ batch: SubmittedProviderBatch) async -> Void = { _ in }
    /// Told after each poll, and when the batch's results are read (`ended`).
    public var polled: @Sendable (_ batch: SubmittedProviderBatch, _ status: ProviderBatchStatus) -> Void = { _, _ in }
    /// Batches submitted earlier (by a process that stopped) and not collected yet: a request
    /// whose custom_id one of them holds waits for its result instead of being sent again.
    public var inFlight: [SubmittedProviderBatch] = []
    /// Batches an earlier process collected: a request whose custom_id one of them holds (the
    /// request before a re-ask or a resubmission, asked again by a resumed item) reads its
    /// result there again instead of being sent again, so that the requests after it have
    /// the custom_ids the earlier process gave them and re-attach to their batches too.
    public var collectedEarlier: [SubmittedProviderBatch] = []
    /// On a shared queue: told when this worker takes over polling a batch another worker
    /// submitted (that worker stopped while leading).
    public var reattached: @Sendable (_ batch: SubmittedProviderBatch) -> Void = { _ in }

    public init() {}
}

/// A provider batch as pipe records it: enough to find it again and match its results.
public struct SubmittedProviderBatch: Sendable, Equatable {
    public var id: String
    public var provider: String
    public var model: String
    public var customIDs: [String]

    public init(id: String, provider: String, model: String, customIDs: [String]) {
        self.id = id
        self.provider = provider
        self.model = model
        self.customIDs = customIDs
    }
}

/// The item of a `pipe batch` a call belongs to, for its `custom_id` and the mock provider's turns:
/// set around each item's run.
public enum ProviderBatchItem {
    @TaskLocal public static var index: Int?
}

/// A `ModelProvider` whose calls go into provider batches: each call waits in its model's
/// collector until the batch it went into has ended, then gets its reply, which the runtime
/// validates, re-asks, retries or falls back from exactly as a real-time reply.
struct BatchingProvider: ModelProvider {
    let collector: ProviderBatcher

    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        try await collector.ask(request, item: ProviderBatchItem.index)
    }
}

/// Collects one model's requests into provider batches and hands each reply back to its
/// caller. Embedded, it submits them itself within the provider's limits and polls them with
/// backoff; on a shared queue (`exchange`), it hands them to the worker that leads the model's
/// batches (`ProviderBatchLead`, maybe this one) and reads their results back.
actor ProviderBatcher {
    private let api: any ProviderBatchAPI
    private let realtime: any ModelProvider
    private let limits: ProviderBatchLimits
    private let options: ProviderBatchOptions
    private let model: String
    private let exchange: (any ProviderBatchExchange)?

    /// A request waiting for its batch: what it asked (for its reply, a re-ask or a real-time
    /// fallback) and its body once, as JSON text, until its batch is submitted. A class: the
    /// lists and tables of waiting requests hold references, not copies (thousands of requests
    /// wait at once). Only the actor changes it.
    private final class Waiting: @unchecked Sendable {
        let base: String
        let request: ModelRequest
        private(set) var line: BatchedRequest
        let resubmits: Int
        let continuation: CheckedContinuation<ModelReply, any Error>

        var customID: String { line.customID }

        init(
            base: String, request: ModelRequest, line: BatchedRequest, resubmits: Int,
            continuation: CheckedContinuation<ModelReply, any Error>
        ) {
            self.base = base
            self.request = request
            self.line = line
            self.resubmits = resubmits
            self.continuation = continuation
        }

        /// Its body is in the provider's hands: not kept while the batch is polled.
        func submitted() {
            line.json = ""
        }
    }

    private var pending: [Waiting] = []
    private var firstPending: ContinuousClock.Instant?
    private var lastArrival = ContinuousClock.now
    private var collecting = false
    /// Requests per custom_id base (item, stage, unit) so far: the next one's attempt number.
    private var attempts: [String: Int] = [:]
    /// Batches of an earlier process, by the custom_ids they hold, and the requests that
    /// re-attached to them.
    private var earlier: [String: SubmittedProviderBatch] = [:]
    private var attached: [String: [String: Waiting]] = [:]
    /// The earlier batches that were collected before: read again, never polled for long.
    private var reread: Set<String> = []
    /// Results of earlier batches that no request had asked for when they were read: a
    /// request that comes later (a re-ask after a result read again) takes its own.
    private var leftover: [String: BatchedResult] = [:]
    /// On a shared queue: the requests handed in, by custom_id, and whether their results are being looked for.
    private var shared: [String: Waiting] = [:]
    private var lookingUp = false

    init(
        api: any ProviderBatchAPI, realtime: any ModelProvider, limits: ProviderBatchLimits, options: ProviderBatchOptions,
        model: String, exchange: (any ProviderBatchExchange)? = nil
    ) {
        self.api = api
        self.realtime = realtime
        self.limits = limits
        self.options = options
        self.model = model
        self.exchange = exchange
        for batch in options.inFlight where batch.provider == api.provider.name && batch.model == model {
            for id in batch.customIDs { earlier[id] = batch }
        }
        for batch in options.collectedEarlier where batch.provider == api.provider.name && batch.model == model {
            reread.insert(batch.id)
            for id in batch.customIDs where earlier[id] == nil { earlier[id] = batch }
        }
    }

    /// The model's key across workers (`PostgresProviderBatches.inFlight` matches it).
    static func key(provider: Provider, model: String) -> String { provider.name + " " + model }

    func ask(_ request: ModelRequest, item: Int?) async throws(ProviderError) -> ModelReply {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                enqueue(request, item: item, resubmits: 0, continuation: continuation)
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    private func enqueue(
        _ request: ModelRequest, item: Int?, resubmits: Int, continuation: CheckedContinuation<ModelReply, any Error>,
        base known: String? = nil
    ) {
        let base = known ?? ProviderBatchCustomID.base(item: item, unit: request.unit)
        let attempt = attempts[base, default: 0] + 1
        attempts[base] = attempt
        let customID = ProviderBatchCustomID.make(base: base, attempt: attempt)
        let waiting = Waiting(
            base: base, request: request, line: BatchedRequest(customID: customID, json: api.body(for: request).serialized(), item: item),
            resubmits: resubmits, continuation: continuation)
        if let result = leftover.removeValue(forKey: customID) {
            Task { await self.answer([customID: waiting], with: [customID: result]) }
            return
        }
        if let batch = earlier.removeValue(forKey: customID) {
            // Submitted by the process before this one: wait for that batch's result.
            let first = attached[batch.id] == nil
            attached[batch.id, default: [:]][customID] = waiting
            // Polled once the other items resumed have asked for their requests too.
            if first { Task { await self.collect(batch, settle: options.window * 2) } }
            return
        }
        submit(waiting)
    }

    /// Into the next batch submitted.
    private func submit(_ waiting: Waiting) {
        pending.append(waiting)
        lastArrival = .now
        if firstPending == nil { firstPending = .now }
        if !collecting {
            collecting = true
            Task { await self.collectWindow() }
        }
    }

    /// Waits until no request has come for `window` (or `maxCollect` has passed, or a batch is
    /// full), then submits what is pending (or hands it to the lead).
    private func collectWindow() async {
        // On a shared queue the lead waits for the window (across workers): a request is
        // handed in soon, so that the lead sees every worker's requests as they come.
        let window = exchange == nil ? options.window : min(options.window, Self.handInWindow)
        while true {
            try? await Task.sleep(for: window)
            let now = ContinuousClock.now
            if now - lastArrival >= window || now - (firstPending ?? now) >= options.maxCollect
                || pending.count >= limits.maxRequests
            {
                break
            }
        }
        let requests = pending
        pending = []
        firstPending = nil
        collecting = false
        if let exchange {
            await share(requests, through: exchange)
            return
        }
        let batches = limits.split(requests.map(\.line))
        var rest = requests[...]
        for batch in batches {
            let waiting = Array(rest.prefix(batch.count))
            rest = rest.dropFirst(batch.count)
            let lines = Lines(batch)
            Task { await self.run(lines, waiting) }
        }
    }

    /// A batch's lines, let go of once it is submitted (not held while it is polled).
    private final class Lines: @unchecked Sendable {
        var lines: [BatchedRequest]

        init(_ lines: [BatchedRequest]) {
            self.lines = lines
        }

        func take() -> [BatchedRequest] {
            defer { lines = [] }
            return lines
        }
    }

    /// Submits one batch, records it, polls it to its end and hands out its results.
    private func run(_ lines: Lines, _ waiting: [Waiting]) async {
        guard let submitted = await submit(lines.take(), waiting) else { return }
        for request in waiting { request.submitted() }
        await options.submitted(submitted)
        attached[submitted.id] = Dictionary(waiting.map { ($0.customID, $0) }, uniquingKeysWith: { a, _ in a })
        await collect(submitted)
    }

    /// Submits a batch; nil when it could not be (its requests answered with the error).
    private func submit(_ batch: [BatchedRequest], _ waiting: [Waiting]) async -> SubmittedProviderBatch? {
        let id: String
        do throws(ProviderError) {
            try await options.beforeSubmit(batch.count)
            id = try await api.submit(batch)
        } catch {
            for request in waiting { request.continuation.resume(throwing: error) }
            return nil
        }
        return SubmittedProviderBatch(id: id, provider: api.provider.name, model: model, customIDs: batch.map(\.customID))
    }

    /// Polls a batch (this process's or an earlier one's) to its end, then answers the
    /// requests waiting for it.
    private func collect(_ batch: SubmittedProviderBatch, settle: Duration = .zero) async {
        if settle > .zero { try? await Task.sleep(for: settle) }
        let outcome = await ProviderBatchPolling.results(of: batch, api: api, options: options)
        // Results of an earlier process's batch that no caller asked for yet are kept for a later one.
        let waiting = attached.removeValue(forKey: batch.id) ?? [:]
        var unasked: [String] = []
        for id in batch.customIDs where earlier[id]?.id == batch.id {
            earlier[id] = nil
            unasked.append(id)
        }
        switch outcome {
        case .failure where reread.contains(batch.id):
            // Its results are gone (a provider keeps them for a while only): sent again.
            for (_, request) in waiting { submit(request) }
        case .failure(let error):
            for (_, request) in waiting { request.continuation.resume(throwing: error) }
        case .success(let results):
            for id in unasked { leftover[id] = results[id] }
            await answer(waiting, with: results)
            await options.collected(batch)
        }
    }

    /// Hands each waiting request its result: its reply, or a retry, or its error.
    private func answer(_ waiting: [String: Waiting], with results: [String: BatchedResult]) async {
        for (customID, request) in waiting {
            switch results[customID] {
            case .succeeded(let body):
                do throws(ProviderError) {
                    request.continuation.resume(returning: try await api.reply(fromWhole: body, request: request.request))
                } catch {
                    request.continuation.resume(throwing: error)
                }
            case .errored(let error):
                if error.isTransient { retry(request, because: error) } else { request.continuation.resume(throwing: error) }
            case .expired:
                retry(request, because: .timedOut)
            case .canceled, nil:
                retry(request, because: .cancelled)
            }
        }
    }

    /// A request the batch did not answer: into the next batch, or a real-time call.
    private func retry(_ request: Waiting, because error: ProviderError) {
        switch options.fallback {
        case .realtime:
            let realtime = realtime
            Task {
                do throws(ProviderError) {
                    request.continuation.resume(returning: try await realtime.complete(request.request) { _ in })
                } catch {
                    request.continuation.resume(throwing: error)
                }
            }
        case .batch:
            guard request.resubmits < options.maxResubmits else {
                request.continuation.resume(throwing: error)
                return
            }
            enqueue(
                request.request, item: request.line.item, resubmits: request.resubmits + 1, continuation: request.continuation, base: request.base)
        }
    }

    // MARK: - On a shared queue

    /// Hands requests to the lead through the exchange, then looks for their results.
    private func share(_ requests: [Waiting], through exchange: any ProviderBatchExchange) async {
        let key = Self.key(provider: api.provider, model: model)
        do throws(StoreError) {
            try await exchange.share(requests.map(\.line), model: key)
        } catch {
            let failure = ProviderError.transport("the batch requests could not be handed to the queue: \(error)")
            for request in requests { request.continuation.resume(throwing: failure) }
            return
        }
        for request in requests { shared[request.customID] = request }
        if !lookingUp {
            lookingUp = true
            Task { await self.lookUp(exchange, key: key) }
        }
    }

    /// Reads the results the lead wrote back for the requests handed in, until none waits:
    /// each time the lead has written a batch's results back (`collectedBatches` grew, looked
    /// at every `firstPoll`), and every `maxLookUp` besides (results of a batch that could not
    /// be submitted are written back without one).
    private func lookUp(_ exchange: any ProviderBatchExchange, key: String) async {
        var collected: Int?
        var lastLook = ContinuousClock.now
        var failures = 0
        while !shared.isEmpty {
            if (try? await Task.sleep(for: options.firstPoll)) == nil { break }
            let texts: [String: String]
            do throws(StoreError) {
                // Counted before the results are read: a batch collected meanwhile is read next time.
                let count = try await exchange.collectedBatches()
                guard count != collected || ContinuousClock.now - lastLook >= Self.maxLookUp else { continue }
                lastLook = .now
                texts = try await exchange.results(of: Array(shared.keys), model: key)
                collected = count
                failures = 0
            } catch {
                failures += 1
                if failures > 10 { break }
                continue
            }
            guard !texts.isEmpty else { continue }
            var results: [String: BatchedResult] = [:]
            var waiting: [String: Waiting] = [:]
            var errored: [String] = []
            for (customID, text) in texts {
                guard let request = shared.removeValue(forKey: customID) else { continue }
                let result = ProviderBatchResultText.decode(text, provider: api.provider)
                if case .errored = result { errored.append(customID) }
                results[customID] = result
                waiting[customID] = request
            }
            // An error is handed out once: a resumed item asks again.
            if !errored.isEmpty { try? await exchange.forget(errored, model: key) }
            await answer(waiting, with: results)
        }
        lookingUp = false
        if !shared.isEmpty {
            let waiting = shared
            shared = [:]
            for (_, request) in waiting {
                request.continuation.resume(throwing: ProviderError.transport("the queue did not answer with the batch results"))
            }
        }
    }

    /// On a shared queue, requests are handed in once none has come for this long.
    static let handInWindow = Duration.milliseconds(100)

    /// The longest wait between two reads of the results on a shared queue (for results
    /// written back without a batch: a submission that failed). Each read looks up every
    /// request the worker waits on (10,000 index probes for 10,000 items): while the items
    /// wait out a turnaround, reads every 2 s cost PostgreSQL more than the hand-over itself.
    static let maxLookUp = Duration.seconds(5)
}

/// Polling a provider batch to its end with backoff (each wait 1.5 times the last, up to
/// `maxPoll`; transient failures tolerated 10 times in a row), then reading its results.
enum ProviderBatchPolling {
    static func results(of batch: SubmittedProviderBatch, api: any ProviderBatchAPI, options: ProviderBatchOptions) async
        -> Result<[String: BatchedResult], ProviderError>
    {
        var wait = options.firstPoll
        var failures = 0
        while true {
            do throws(ProviderError) {
                let status = try await api.status(batch.id)
                failures = 0
                options.polled(batch, status)
                if status.ended { break }
            } catch {
                failures += 1
                if !error.isTransient || failures > 10 { return .failure(error) }
            }
            if (try? await Task.sleep(for: wait)) == nil { return .failure(.cancelled) }
            wait = min(options.maxPoll, wait * 1.5)
        }
        do throws(ProviderError) {
            return .success(try await api.results(batch.id))
        } catch {
            return .failure(error)
        }
    }
}

/// The `custom_id` of a request in a provider batch: `i{item}-{stage}[-l{iteration}][-f{fan-out
/// item}]-a{attempt}`, within `^[a-zA-Z0-9_-]{1,64}$` (a stage name too long for that, or with
/// other characters, is cut and tagged with a hash of the whole name, so ids stay unique).
enum ProviderBatchCustomID {
    static func base(item: Int?, unit: RunUnitID) -> String {
        var suffix = ""
        if let iteration = unit.iteration { suffix += "-l\(iteration)" }
        if let index = unit.item { suffix += "-f\(index)" }
        let head = "i" + (item.map(String.init) ?? "x") + "-"
        var stage = ProviderNames.sanitized(unit.stage)
        // 64, less the head, the suffix and the longest attempt part ("-a" and up to 6 digits).
        let room = 64 - head.count - suffix.count - 8
        if stage != unit.stage || stage.count > room {
            let hash = String(fnv1a(unit.stage) % 0xFFFF_FFFF, radix: 36)
            stage = String(stage.prefix(max(1, room - hash.count - 1))) + "_" + hash
        }
        return head + stage + suffix
    }

    static func make(base: String, attempt: Int) -> String { base + "-a\(attempt)" }

    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
