import Foundation
import PipeKit

/// One invocation of `pipe batch` (or one batch a `pipe worker` works on): the batch submitted
/// (or found for `--resume`) in the embedded store, held by this process, or in PostgreSQL,
/// then worked on by a `BatchRunner` whose items are ordinary recorded runs (`RunLifecycle`),
/// with results, progress and the summary.
struct BatchSession {
    struct Settings {
        var mock: Bool
        var quiet: Bool
        var concurrency: Int
        var maxCostUSD: Double?
        var output: String?
        /// `--provider-batch`: every model's calls go through its provider's batch API (a
        /// model with `batch: true` does without it).
        var providerBatch = false
        var batchFallback = ProviderBatchOptions.Fallback.batch
        /// --concurrency was not given (a batch on a queue recorded with provider batches
        /// raises it, as --provider-batch does).
        var defaultConcurrency = false
        /// `pipe eval --replay`: every call answered from a cassette; nothing is called.
        var replay: ReplayProvider? = nil
        /// `pipe eval --record`: every exchange written to a cassette.
        var recorder: CassetteRecorder? = nil
        /// `--record-prompts`/`--record-outputs` over the spec's `record:`.
        var record = RecordChoice()
        /// `pipe eval`: the judges scoring each item as it ends.
        var afterItem: AfterItem? = nil
    }

    /// What runs after each item's run, in the item's slot, and what it cost so far: counted
    /// against `--max-cost-usd` with the items' runs.
    struct AfterItem: Sendable {
        var run: @Sendable (ItemResult) async -> Void
        var spentUSD: @Sendable () -> Double
    }

    let id: String
    let spec: String
    let pipeline: CompiledPipeline
    let backend: BatchQueue
    /// The items' runs, in the queue's store.
    let lifecycle: RunLifecycle
    /// Nil: the results are only in the queue (`pipe worker`).
    let results: ResultLines?
    let progress: BatchProgress?
    /// What the calls of this process cost so far: `--max-cost-usd` is checked against it
    /// before each provider batch is submitted.
    let spent = SpentUSD()

    /// Items read and queued at a time.
    static let chunk = 1000

    /// The input still to be read and enqueued (`pipe batch SPEC --input FILE`); nil for a
    /// batch resumed or worked on by `pipe worker`.
    var feed: Feed? = nil

    // MARK: - Starting

    /// Submits a batch: creates it, and makes its `feed` (its input is read and enqueued by
    /// `work`, beside the items already running, or by `feedAll`).
    ///
    /// A regular file is read to its end first without being parsed (its lines counted, a
    /// CSV's header read): one that cannot be read, has no header, or more lines than a batch
    /// takes is found before any item runs (exit 2). Its first `firstChunk` items then start as
    /// soon as they are enqueued, while the rest are read, validated and enqueued beside them.
    /// A file of one chunk, or with more lines than items allowed (it may still fit: blank
    /// lines are no items), and any other input (stdin, a pipe), which can be read only once,
    /// are read and enqueued whole before any item runs, as the item limit must be known.
    static func submitting(
        spec: String, pipeline: CompiledPipeline, input: String, format: BatchInput.Format, backend: BatchQueue,
        quiet: Bool, output: String?, writeResults: Bool = true, firstChunk: Int = chunk
    ) async throws -> BatchSession {
        let queue = backend.queue
        let validator: JSONSchema?
        do {
            validator = try pipeline.inputSchema.map { schema throws(SchemaError) in try JSONSchema(compiling: schema) }
        } catch {
            try Terminal.writeError("pipe: the input schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        let descriptor = input == "-" ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            try Terminal.writeError("pipe: cannot read the input file \(input): \(String(cString: strerror(errno)))\n")
            throw ExitCodeError(code: 2)
        }
        let maxItems = BatchInput.maxItems(environment: ProcessInfo.processInfo.environment)
        let feed = Feed(
            reader: BatchInput(descriptor: descriptor, format: format, schema: pipeline.inputSchema, validator: validator, maxItems: maxItems),
            descriptor: descriptor, name: input == "-" ? "the input on stdin" : "the input file \(input)")
        var streamed = false
        do {
            if let lines = try BatchInput.lineCount(descriptor: descriptor) {
                try feed.reader.readHeader()
                streamed = lines > chunk && lines <= maxItems + (format == .csv ? 1 : 0)
            }
        } catch {
            feed.close()
            try Terminal.writeError("pipe: cannot read \(feed.name): \(error); no item was run\n")
            throw ExitCodeError(code: 2)
        }
        feed.firstChunk = streamed ? max(1, min(firstChunk, chunk)) : chunk
        let text = String(decoding: pipeline.source.bytes, as: UTF8.self)
        let id = BatchID.make()
        do {
            try await orExit { () async throws(StoreError) in
                try await queue.create(
                    NewBatch(
                        id: id, specPath: spec, specText: text, schemaFiles: pipeline.schemaFiles,
                        specHash: BatchSpec.hash(text, files: pipeline.schemaFiles), pipelineName: pipeline.name))
                try backend.hold(id)
            }
            try Terminal.writeError("pipe: batch \(id)\n")
        } catch {
            feed.close()
            throw error
        }
        var session = try BatchSession(
            id: id, spec: spec, pipeline: pipeline, backend: backend, lifecycle: backend.lifecycle,
            results: writeResults ? ResultLines(file: resultFile(output)) : nil,
            progress: quiet ? nil : progress(BatchCounts()))
        session.feed = feed
        if !streamed { try await session.feedAll() }
        return session
    }

    /// Reads and enqueues the whole input now (before any item runs); nothing when it is read.
    func feedAll() async throws {
        if let error = await feedRest(itemsRun: false) { throw error }
    }

    /// Reads, validates and enqueues what is left of the input, a chunk at a time, and writes
    /// the results of its invalid lines; then seals the batch. Cancelled (Ctrl-C), it stops
    /// between chunks and leaves the batch unsealed: `--resume` runs the items enqueued by then.
    /// Returns what stopped it early (its message written): exit 2 for an input that could not
    /// be read on or a store that failed, or the `WriteError` of a result line.
    /// - Parameter itemsRun: items may be running meanwhile (not yet before `work`).
    func feedRest(itemsRun: Bool) async -> (any Error)? {
        guard let feed, !feed.feeding.hasEnded else { return nil }
        defer { feed.close() }
        do {
            var size = feed.firstChunk
            while !Task.isCancelled {
                var items: [QueuedItem] = []
                do {
                    while items.count < size, let item = try feed.reader.next() { items.append(item) }
                } catch {
                    let ran = !itemsRun || feed.enqueued == 0 ? "no item was run" : "the \(feed.enqueued) items enqueued before it run"
                    try Terminal.writeError("pipe: cannot read \(feed.name): \(error); \(ran); the batch \(id) stays unfinished\n")
                    throw ExitCodeError(code: 2)
                }
                try await Self.orExit { () async throws(StoreError) in try await backend.queue.enqueue(batch: id, items: items) }
                feed.enqueued += items.count
                // Counted pending before the runner is told, which may start them at once.
                progress?.enqueued(items.count(where: { if case .success = $0.input { true } else { false } }))
                feed.feeding.added()
                for item in items {
                    if case .failure(let invalid) = item.input {
                        try report(ItemResult(index: item.index, status: .invalidInput, error: invalid.message), line: item.line)
                    }
                }
                if items.count < size {
                    try await Self.orExit { () async throws(StoreError) in try await backend.queue.sealBatch(id) }
                    return nil
                }
                size = Self.chunk
            }
            return nil
        } catch {
            return error
        }
    }

    /// A batch's input being read and enqueued: by one task at a time (`feedRest`).
    final class Feed: @unchecked Sendable {
        var reader: BatchInput
        let descriptor: Int32
        /// The input, for messages.
        let name: String
        /// Items in the first chunk (about --concurrency when items start before the input is read).
        var firstChunk = BatchSession.chunk
        /// Items enqueued so far.
        var enqueued = 0
        /// Told of each chunk enqueued, and of the end: the runner's claims wait for them.
        let feeding = BatchFeeding()

        init(reader: BatchInput, descriptor: Int32, name: String) {
            self.reader = reader
            self.descriptor = descriptor
            self.name = name
        }

        /// The reading is over, however it ended: the input closed, the runner told.
        func close() {
            guard !feeding.hasEnded else { return }
            if descriptor != STDIN_FILENO { Glibc.close(descriptor) }
            feeding.ended()
        }
    }

    /// - Parameter writeResults: false: no result lines (`pipe eval` reads the results back).
    static func resuming(_ reference: String, backend: BatchQueue, quiet: Bool, output: String?, writeResults: Bool = true)
        async throws -> BatchSession
    {
        var info = try await find(reference, in: backend)
        let pipeline: CompiledPipeline
        switch backend {
        case .embedded:
            pipeline = try SpecFile.compileOrExit(info.specPath, quiet: quiet)
            let text = String(decoding: pipeline.source.bytes, as: UTF8.self)
            guard BatchSpec.hash(text, files: pipeline.schemaFiles) == info.specHash else {
                try Terminal.writeError("pipe: \(info.specPath) changed since batch \(info.id) started; its items must run the same spec\n")
                throw ExitCodeError(code: 2)
            }
        case .postgres:
            // The workers' way: the spec and schema files the batch carries.
            pipeline = try BatchSpec.compile(info)
        }
        let id = info.id
        let released = try await orExit { () async throws(StoreError) in
            try backend.hold(id)
            return try await backend.releaseAbandoned(id)
        }
        if case .embedded = backend {
            info.counts.pending += info.counts.running
            info.counts.running = 0
        }
        try Terminal.writeError("pipe: batch \(info.id)" + (released > 0 ? ": \(released) items were in flight when it stopped; they resume their runs" : "") + "\n")
        if !info.sealed, case .embedded(let queue) = backend {
            // Stopped (Ctrl-C, kill, an input that could not be read on) while its input was
            // being enqueued: the batch is what was enqueued by then. Nobody else can add to it
            // (it is held): sealed now.
            try Terminal.writeError(
                "pipe: batch \(info.id): its input was not all read when it stopped: it has the \(info.counts.total) items enqueued by then; run the rest of the input as a new batch\n")
            try await orExit { () async throws(StoreError) in try await queue.sealBatch(id) }
        }
        let results = writeResults ? try ResultLines(file: resultFile(output)) : nil
        if let results, case .postgres = backend {
            // The items that ended before: their lines are not written again.
            try await eachResult(of: id, in: backend) { page in results.skip(page.map(\.index)) }
        }
        return BatchSession(
            id: info.id, spec: info.specPath, pipeline: pipeline, backend: backend, lifecycle: backend.lifecycle,
            results: results,
            progress: quiet ? nil : progress(info.counts))
    }

    /// The progress on stderr: live, as wide as the terminal, on a terminal; plain lines elsewhere.
    private static func progress(_ counts: BatchCounts) -> BatchProgress {
        let live = Terminal.isTerminal(2)
        return BatchProgress(
            counts: counts, mode: live ? .live : .plain, width: live ? Terminal.columns(2) : nil,
            output: OutputFile.standardError.write)
    }

    // MARK: - Working

    func work(settings given: Settings) async throws {
        let settings = try await providerBatchChoice(given)
        let runner = try makeRunner(settings)
        let telemetry = RunTelemetry.fromEnvironment(ProcessInfo.processInfo.environment)
        for warning in telemetry.warnings { try Terminal.writeError(warning + "\n") }
        let clock = ContinuousClock.now
        let ((outcome, fed), signal) = await Interrupt.run { [self] in
            // The rest of the input is read and enqueued beside the items (stopped by Ctrl-C;
            // read to its end past a --max-cost-usd stop, so that --resume has every item).
            async let fed = feedRest(itemsRun: true)
            var idle = IdleWait()
            while true {
                let outcome = await drain(
                    runner: runner, concurrency: settings.concurrency, maxCostUSD: settings.maxCostUSD, telemetry: telemetry,
                    afterItem: settings.afterItem, claimsAhead: !settings.providerBatch)
                // On a shared queue, other workers may still hold items: wait for them to end
                // there, or for their leases to lapse and the items to come back here.
                guard case .success(.drained) = outcome,
                    let counts = try? await backend.queue.counts(batch: id), counts.pending + counts.running > 0
                else { return (outcome, await fed) }
                try? await reportOthers()
                // As `pipe worker` looks again: soon, then less and less often.
                if (try? await Task.sleep(for: idle.wait(othersRunning: true))) == nil { return (.success(.interrupted), await fed) }
            }
        }
        backend.letGo(id)
        await RunSession.finish(telemetry)
        let stopped: BatchRunner.Outcome
        switch outcome {
        case .success(let value): stopped = value
        case .failure(let error):
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        if let fed {
            try? results?.close()
            throw fed
        }
        try await reportOthers()
        try results?.close()
        if let failure = progress?.failure { throw failure }
        let counts = try await Self.orExit { () async throws(StoreError) in try await backend.queue.counts(batch: id) }
        try Terminal.writeError("pipe: batch \(id): \(RunLogText.counts(counts)) (\(DurationFormat.short(ContinuousClock.now - clock)))\n")
        for line in CircuitBreakers.shared.summary() { try Terminal.writeError("pipe: \(line)\n") }
        let hint = "pipe: continue it with: pipe batch --resume \(id)" + " \(backend.option)" + "\n"
        switch stopped {
        case .interrupted:
            try Terminal.writeError(hint)
            throw ExitCodeError(code: 128 + (signal ?? SIGINT))
        case .costLimit(let spent):
            let cost: String
            if let besides = settings.afterItem?.spentUSD() {
                cost = "the ended items cost \(RunLogText.usd(spent - besides)) and their judges \(RunLogText.usd(besides))"
                    + " (\(RunLogText.usd(spent)) in all)"
            } else {
                cost = "the ended items cost \(RunLogText.usd(spent))"
            }
            try Terminal.writeError("pipe: stopped: \(cost), --max-cost-usd \(settings.maxCostUSD ?? 0)\n" + hint)
            throw ExitCodeError(code: 4)
        case .drained:
            if counts.failed + counts.invalidInput > 0 { throw ExitCodeError(code: 1) }
        }
    }

    /// On PostgreSQL, the batch's own choice of provider batches (made when it was submitted
    /// with --provider-batch, and recorded with it), which every worker follows; `--provider-batch`
    /// on `--resume` makes it for the rest of the batch.
    func providerBatchChoice(_ settings: Settings) async throws -> Settings {
        guard case .postgres(let queue, _) = backend else { return settings }
        var settings = settings
        if settings.providerBatch {
            try await Self.orExit { () async throws(StoreError) in
                try await PostgresProviderBatches.choose(settings.batchFallback, batch: id, client: queue.client)
            }
        } else if let fallback = try await Self.orExit({ () async throws(StoreError) in
            try await PostgresProviderBatches.choice(batch: id, client: queue.client)
        }) {
            settings.providerBatch = true
            settings.batchFallback = fallback
            if settings.concurrency < Self.providerBatchConcurrency, settings.defaultConcurrency {
                settings.concurrency = Self.providerBatchConcurrency
            }
        }
        return settings
    }

    /// --concurrency's default with provider batches: every item waits in the same batch.
    static let providerBatchConcurrency = 10_000

    /// The runner of the batch's pipeline, its calls bounded by `settings.concurrency` (exit 2
    /// when an output schema does not compile).
    func makeRunner(_ settings: Settings) throws -> PipelineRunner {
        let environment = ProcessInfo.processInfo.environment
        let factory = ProviderFactory(environment: environment, forceMock: settings.mock, mockReplies: pipeline.mockReplies)
        // Each item's run starts the tool servers it uses and stops them when it ends, as
        // `pipe run` does (from the cassette under --replay).
        let policy = settings.record.policy(over: pipeline.record)
        let toolServers = Cassettes.toolServers(replay: settings.replay, recorder: settings.recorder, policy: policy)
        try RunSession.checkTools(pipeline, environment: environment, factory: toolServers)
        // The items' stages run on the shared pool, not on the HTTP client's thread as `pipe run`'s
        // do: rendering, validation and records of hundreds of items at once would queue on
        // that one thread and hold up every call (BENCHMARKS.md, `pipe batch`).
        var options = PipelineRunner.Options(concurrency: settings.concurrency, journal: nil, approval: ApprovalPolicy())
        options.calls = CallLimiter(limit: settings.concurrency)
        options.mockCommands = settings.mock
        options.toolServers = toolServers
        options.environment = environment
        let batchOptions = providerBatchOptions(settings)
        // Provider batches a stopped process left in flight: their models keep going through
        // batches, so that their requests are collected, not sent again.
        // On PostgreSQL the workers' batched requests meet in the database, where one worker
        // at a time submits and polls each model's batches.
        var exchange: (any ProviderBatchExchange)?
        if case .postgres(let queue, _) = backend { exchange = PostgresProviderBatches(client: queue.client, batch: id) }
        let batching = ProviderBatching(
            factory: factory, options: batchOptions, all: settings.providerBatch || !batchOptions.inFlight.isEmpty, exchange: exchange)
        do {
            let (replay, recorder) = (settings.replay, settings.recorder)
            var pipeline = pipeline.atBatchPrices(batching.batches)
            pipeline.record = policy
            return try PipelineRunner(pipeline: pipeline, options: options) { model throws(ProviderError) in
                try Cassettes.provider(replay: replay, recorder: recorder, policy: policy) { () throws(ProviderError) in try batching.provider(for: model) }
            }
        } catch {
            try Terminal.writeError("pipe: an output schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    /// How provider batches are collected and told about: `--batch-fallback`, the cost limit
    /// checked before each submission, a line for each batch submitted and ended.
    private func providerBatchOptions(_ settings: Settings) -> ProviderBatchOptions {
        var options = ProviderBatchOptions()
        options.fallback = settings.batchFallback
        // How long to wait for more requests before submitting a batch (a loaded machine, tests).
        if let text = ProcessInfo.processInfo.environment["PIPE_PROVIDER_BATCH_WINDOW_MS"], let ms = Int(text), ms > 0 {
            options.window = .milliseconds(ms)
        }
        let (spent, progress, limit) = (spent, progress, settings.maxCostUSD)
        options.beforeSubmit = { requests throws(ProviderError) in
            let cost = spent.withLock { $0 }
            if let limit, cost >= limit {
                throw .invalidRequest(
                    "--max-cost-usd \(limit) reached (\(RunLogText.usd(cost)) spent): a provider batch of \(requests) requests was not submitted")
            }
        }
        var record: @Sendable (SubmittedProviderBatch) async -> Void = { _ in }
        if case .embedded(let queue) = backend {
            let batchID = id
            options.inFlight = (try? queue.providerBatchesInFlight(of: batchID)) ?? []
            // A resumed item asks again for what it asked before a re-ask or a resubmission.
            options.collectedEarlier = (try? queue.providerBatches(of: batchID, state: .collected)) ?? []
            record = { batch in
                do throws(StoreError) {
                    try await queue.recordProviderBatch(batch, of: batchID)
                } catch {
                    progress?.note("provider batch \(batch.id) could not be recorded: \(error); --resume would submit its requests again")
                }
            }
            options.collected = { batch in try? await queue.setProviderBatch(batch.id, .collected) }
            for batch in options.inFlight {
                progress?.note("provider batch \(batch.id) (\(batch.provider) \(batch.model)): \(batch.customIDs.count) requests in flight; re-attached")
            }
        }
        options.submitted = { [record] batch in
            await record(batch)
            progress?.note("provider batch \(batch.id) (\(batch.provider) \(batch.model)): \(batch.customIDs.count) requests submitted")
        }
        options.reattached = { batch in
            progress?.note("provider batch \(batch.id) (\(batch.provider) \(batch.model)): \(batch.customIDs.count) requests in flight; re-attached")
        }
        options.polled = { batch, status in
            progress?.polled(batch, status)
            guard status.ended else { return }
            progress?.note(
                "provider batch \(batch.id) ended: \(status.succeeded) succeeded, \(status.errored) errored, \(status.expired) expired, \(status.canceled) canceled")
        }
        return options
    }

    /// Works on the batch's items until none is left to claim, the cost limit is reached, or
    /// the task is cancelled (the items in flight are given back), with the progress shown.
    func drain(
        runner: PipelineRunner, concurrency: Int, maxCostUSD: Double?, lease: Duration = BatchSession.lease,
        worker: String = BatchSession.workerName(), telemetry: RunTelemetry = .disabled, afterItem: AfterItem? = nil,
        claimsAhead: Bool = true
    ) async -> Result<BatchRunner.Outcome, StoreError> {
        var options = BatchRunner.Options(concurrency: concurrency, maxCostUSD: maxCostUSD, lease: lease, worker: worker)
        if let afterItem {
            options.spentBesides = afterItem.spentUSD
            // The judges score an item in its slot, after its run.
            options.freesSlotAtAnswer = false
        }
        options.claimsAhead = claimsAhead
        options.feeding = feed?.feeding
        let batchRunner = BatchRunner(queue: backend.queue, batch: id, options: options)
        async let display: Void = progress?.run() ?? ()
        let outcome: Result<BatchRunner.Outcome, StoreError>
        do throws(StoreError) {
            outcome = .success(
                try await batchRunner.run(
                    started: { progress?.started($0) },
                    ended: { claim, result in try? report(result, line: claim.line) },
                    runItem: { claim, finisher in
                        await runItem(claim, runner: runner, finisher: finisher, telemetry: telemetry, afterItem: afterItem)
                    }))
        } catch {
            outcome = .failure(error)
        }
        progress?.finish()
        await display
        return outcome
    }

    /// How long a claim holds an item unrenewed: renewed every third of it while the item's
    /// calls are in flight (however long a call takes), it lapses only under a dead worker.
    static let lease = Duration.seconds(60)

    /// Who claims: the process and a nonce.
    static func workerName() -> String {
        "pid \(getpid()) #\(UInt32.random(in: 0...UInt32.max))"
    }

    /// One item: a recorded run of the pipeline, resuming the item's earlier run if it has one.
    /// Its run's start is written with the item's run (whoever claims the item next resumes
    /// it), its run's end with the item's end: a write each, instead of two.
    /// Exported, it is a trace of its own (or a child of the caller's `TRACEPARENT` span): a
    /// batch of thousands of items in one trace would pass what tracing backends show, and each
    /// item's run has its own trace id in the store, which `pipe logs RUN` shows.
    /// In three steps not inlined here, whose state is an `ItemSteps`: this frame is held while
    /// the item waits (its provider batch, with thousands of others), and the task keeps the
    /// largest stack it ever had, so each step's frames are small too (BENCHMARKS.md).
    /// `afterItem` runs once the item ended.
    private func runItem(
        _ claim: Claim, runner: PipelineRunner, finisher: ItemFinisher, telemetry: RunTelemetry, afterItem: AfterItem?
    ) async -> ItemRun {
        let item = ItemSteps(claim, traceID: telemetry.traceID())
        if await start(item) {
            await perform(item, runner: runner, telemetry: telemetry)
            await end(item, finisher: finisher)
        }
        if let afterItem { await after(item, afterItem) }
        return item.ended
    }

    @inline(never)
    private func after(_ item: ItemSteps, _ afterItem: AfterItem) async {
        if case .ended(let result) = item.ended { await afterItem.run(result) }
    }

    /// An item's run as its steps go: started, its result, how it ended.
    private final class ItemSteps: @unchecked Sendable {
        let claim: Claim
        let traceID: String
        /// The run it continues, if any (boxed: most items continue none).
        var resumed: Resumed?
        var run: RunLifecycle.Run?
        var spans: OTLPRunTracer?
        var result: PipelineRunner.Result?
        var ended = ItemRun.unfinished

        init(_ claim: Claim, traceID: String) {
            self.claim = claim
            self.traceID = traceID
        }

        final class Resumed: Sendable {
            let resumption: RunLifecycle.Resumption

            init(_ resumption: RunLifecycle.Resumption) {
                self.resumption = resumption
            }
        }
    }

    /// Records the item's run as started; false (the item ended) when it could not be.
    @inline(never)
    private func start(_ item: ItemSteps) async -> Bool {
        // A run an earlier claim left half done is continued (its finished stages reused), if
        // nobody holds it still.
        if item.claim.previousRunID != nil { await resume(item) }
        do {
            item.run = try await lifecycle.start(
                specPath: spec, pipeline: pipeline, input: item.claim.input, traceID: item.traceID,
                resuming: item.resumed?.resumption, write: startWrite(item.claim))
            return true
        } catch {
            await notStarted(item, error)
            return false
        }
    }

    @inline(never)
    private func resume(_ item: ItemSteps) async {
        if let previous = item.claim.previousRunID, let resumption = try? await lifecycle.resume(previous, specPath: nil) {
            item.resumed = ItemSteps.Resumed(resumption)
        }
    }

    /// The item's run's start, written with the item's run.
    @inline(never)
    private func startWrite(_ claim: Claim) -> RunLifecycle.StartWrite {
        { [queue = backend.queue] run throws(StoreError) in try await queue.startRun(run, for: claim) }
    }

    @inline(never)
    private func notStarted(_ item: ItemSteps, _ error: StoreError) async {
        if let resumed = item.resumed { await lifecycle.letGo(resumed.resumption.id) }
        item.ended = .ended(
            ItemResult(index: item.claim.index, status: .failed, error: "the item's run could not be recorded: \(error)"))
    }

    /// Runs the item's pipeline, recorded in its run's journal.
    @inline(never)
    private func perform(_ item: ItemSteps, runner: PipelineRunner, telemetry: RunTelemetry) async {
        let claim = item.claim
        let spans = telemetry.tracer(
            runID: item.run?.id ?? "", traceID: item.traceID, pipeline: pipeline.name,
            attributes: [("pipe.batch.id", .string(id)), ("pipe.batch.item", .int(Int64(claim.index)))])
        item.spans = spans
        await ProviderBatchItem.$index.withValue(claim.index) {
            item.result = await runner.run(input: claim.input, journal: item.run?.journal) { [progress, spent] event in
                if case .callFinished(let call) = event, let cost = call.costUSD { spent.withLock { $0 += cost } }
                progress?.record(event, item: claim.index)
                spans?.record(event)
            }
        }
    }

    /// Records the run's end, with the item's end when the run ended (not interrupted).
    @inline(never)
    private func end(_ item: ItemSteps, finisher: ItemFinisher) async {
        guard let result = item.result, let run = item.run else { return }
        item.spans?.finish(result)
        if case .interrupted = result.outcome {
            _ = await lifecycle.finish(run, result)
            item.ended = .unfinished
            return
        }
        let ended = ItemResult(index: item.claim.index, runID: run.id, result)
        _ = await lifecycle.finish(run, result) { end throws(StoreError) in _ = try await finisher.finish(ended, runEnd: end) }
        item.ended = .ended(ended)
    }

    /// Writes an ended item's result line and tells the progress, once an item.
    func report(_ result: ItemResult, line: Int) throws(WriteError) {
        if let results, !results.claim(result.index) { return }
        progress?.ended(result, line: line)
        try results?.file.write(result.json.serialized() + "\n")
    }

    /// On a shared queue, the lines of the items other workers ended (read back from the
    /// queue), so that the results carry one line per item, as on the embedded queue.
    func reportOthers() async throws {
        guard case .postgres = backend, results != nil else { return }
        try await Self.eachResult(of: id, in: backend) { page in
            for result in page { try report(result, line: result.line ?? result.index + 1) }
        }
    }

    /// Every ended item of a batch, in input order, a page at a time (exit 2 when the store fails).
    static func eachResult(of id: String, in backend: BatchQueue, _ body: ([ItemResult]) throws -> Void) async throws {
        var after: Int?
        while true {
            let page = try await orExit { () async throws(StoreError) in
                try await backend.queue.results(batch: id, after: after, limit: 1000)
            }
            guard let last = page.last else { return }
            try body(page)
            after = last.index
        }
    }

    // MARK: - Pieces

    /// The result lines `pipe batch` writes: one per item, whichever worker ran it.
    final class ResultLines: @unchecked Sendable {
        let file: OutputFile
        private let lock = NSLock()
        private var written = Set<Int>()

        init(file: OutputFile) {
            self.file = file
        }

        /// True the first time an item's line is asked for: this caller writes it.
        func claim(_ index: Int) -> Bool {
            lock.withLock { written.insert(index).inserted }
        }

        /// Items whose lines are not to be written (they ended before this command).
        func skip(_ indexes: [Int]) {
            lock.withLock { written.formUnion(indexes) }
        }

        func close() throws(WriteError) { try file.close() }
    }

    /// The queue (`--queue`, PIPE_QUEUE, else the run store) and the batch a reference names
    /// (exit 2 when there is none).
    static func find(_ reference: String, store: String?, queue url: String?) async throws -> (BatchQueue, BatchInfo) {
        let path = RunRecording.path(store: store, spec: nil)
        let url = BatchQueue.url(url)
        guard url != nil || FileManager.default.fileExists(atPath: path) else {
            try Terminal.writeError("pipe: no run store at \(path): `pipe batch` creates it beside the spec; name another with --store or PIPE_STORE\n")
            throw ExitCodeError(code: 2)
        }
        let backend = try await BatchQueue.open(url: url, storePath: path)
        return (backend, try await find(reference, in: backend))
    }

    static func find(_ reference: String, in backend: BatchQueue) async throws -> BatchInfo {
        guard let info = try await orExit({ () async throws(StoreError) in try await backend.queue.batch(reference) }) else {
            try Terminal.writeError("pipe: no batch `\(reference)` in \(backend.location); `pipe logs` lists the batches\n")
            throw ExitCodeError(code: 2)
        }
        return info
    }

    /// `--output FILE`, else stdout.
    static func resultFile(_ path: String?) throws -> OutputFile {
        guard let path else { return .standardOutput }
        do {
            return try OutputFile(creating: path, name: "the results file \(path)")
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    /// Runs a store operation; a store that fails ends the command with exit 2.
    static func orExit<T>(_ body: () async throws(StoreError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }
}

/// A running sum of USD, shared by the items' calls.
final class SpentUSD: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0.0

    func withLock<T>(_ body: (inout Double) -> T) -> T {
        lock.withLock { body(&value) }
    }
}
