/// Runs one unit of a stage of some kind (the stage, an item of its `for_each`, an
/// iteration of its loop), whatever wrappers are around it. The scheduler reaches every kind
/// through this protocol; `StageKind.executor` says which executor runs which kind.
protocol StageExecutor: Sendable {
    /// Runs the unit: its outcome, and its report (recorded in the journal when there is one).
    func run(_ context: StageContext) async -> (StageOutcome, StageReport)

    /// What a person approving the stage (`approve: true`) is shown: what it would receive.
    func pending(_ context: StageContext) -> PendingApproval
}

extension StageKind {
    /// The executor of each kind: a new kind is registered here.
    var executor: any StageExecutor {
        switch self {
        case .model(let stage): ModelStageExecutor(stage: stage)
        case .command(let stage): CommandStageExecutor(stage: stage)
        case .pipeline(let stage): PipelineStageExecutor(stage: stage)
        }
    }
}

/// What a unit's run gets from the run around it. A class: every async frame between the
/// scheduler and a waiting call holds one reference, not a copy of the stage and its values
/// (`pipe batch --provider-batch` keeps thousands of units waiting at once, BENCHMARKS).
final class StageContext: Sendable {
    /// The stage, its executor and validator, shared by every run of the runner.
    let planned: PipelineRunner.PlannedStage
    var stage: CompiledStage { planned.stage }
    var executor: any StageExecutor { planned.executor }
    var validator: JSONSchema? { planned.validator }
    /// Which run of the stage this is; events and records name it so.
    let unit: RunUnitID
    /// The values the unit reads (with a `for_each`'s item).
    let renderer: TemplateRenderer
    let ledger: BudgetLedger
    let resolveProvider: PipelineRunner.ProviderResolver
    let retryPolicy: RetryPolicy
    let deadline: ContinuousClock.Instant?
    let journal: (any RunJournal)?
    /// `--cache`: every stage reuses the replies of identical earlier calls.
    let cacheEverything: Bool
    /// `--mock`: a command stage with `mock:` values answers with them instead of running.
    let mockCommands: Bool
    /// Its calls' replies are shown as they grow (`PipelineRunner.Options.liveProgress`).
    let liveProgress: Bool
    /// The run's tool servers, when a stage uses tools.
    let toolServers: (any ToolServers)?
    /// `record:`: how the unit's calls and tool calls are recorded and traced.
    let record: RecordPolicy
    /// A `pipeline:` stage's child, with what it shares with the parent's run.
    let child: ChildRun?
    let events: @Sendable (RunEvent) -> Void

    init(
        _ planned: PipelineRunner.PlannedStage, unit: RunUnitID, renderer: TemplateRenderer, ledger: BudgetLedger,
        resolveProvider: @escaping PipelineRunner.ProviderResolver, retryPolicy: RetryPolicy, deadline: ContinuousClock.Instant?,
        journal: (any RunJournal)?, cacheEverything: Bool, mockCommands: Bool = false, liveProgress: Bool = false, toolServers: (any ToolServers)? = nil,
        record: RecordPolicy = .full, child: ChildRun? = nil, events: @escaping @Sendable (RunEvent) -> Void
    ) {
        self.planned = planned
        self.unit = unit
        self.renderer = renderer
        self.ledger = ledger
        self.resolveProvider = resolveProvider
        self.retryPolicy = retryPolicy
        self.deadline = deadline
        self.journal = journal
        self.cacheEverything = cacheEverything
        self.mockCommands = mockCommands
        self.liveProgress = liveProgress
        self.toolServers = toolServers
        self.record = record
        self.child = child
        self.events = events
    }

    /// The unit of item `index` of a `for_each`, with the item in its values as `name`. The live
    /// table has no line for an item, so its calls do not report their progress as they go.
    func item(_ index: Int, _ value: JSONValue, named name: String) -> StageContext {
        var values = renderer.values
        values[name] = value
        return StageContext(
            planned, unit: unit.item(index), renderer: TemplateRenderer(values: values), ledger: ledger,
            resolveProvider: resolveProvider, retryPolicy: retryPolicy, deadline: deadline, journal: journal,
            cacheEverything: cacheEverything, mockCommands: mockCommands, toolServers: toolServers, record: record, child: child,
            events: events)
    }
}

extension StageReport {
    /// The report of a unit that made no call: skipped, held for approval, or not reached.
    static func empty(_ unit: RunUnitID, _ status: Status, stage: CompiledStage) -> StageReport {
        let model: ResolvedModel?
        switch stage.kind {
        case .model(let settings): model = settings.model
        case .command, .pipeline: model = nil
        }
        var report = StageReport(
            unit: unit, status: status, model: model, attempts: 0, usage: .zero, costUSD: nil, latency: .zero, error: nil)
        if case .pipeline = stage.kind { report.withoutModel = StageReport.pipeline }
        return report
    }
}

/// Runs `work` (parsing, validation: CPU that a large or hostile reply can make long) on the
/// global concurrent executor. A stage's task prefers the HTTP thread, which must stay free
/// for the other stages' transfers; the task, and so its cancellation, stays the same.
func offHTTPThread<T: Sendable>(_ work: () -> T) async -> T {
    await withTaskExecutorPreference(globalConcurrentExecutor) { work() }
}

extension StageContext {
    /// For a stage that calls no model of its own (a command, a child spec): the value the
    /// run being resumed recorded under `fingerprint`, else with `cache` (or `--cache`), any
    /// earlier run's.
    func earlierOutput(fingerprint: String, cache: Bool) async -> JSONValue? {
        guard let journal else { return nil }
        if let resumed = await journal.reusableOutput(stage: unit.description, fingerprint: fingerprint) { return resumed }
        guard cache || cacheEverything else { return nil }
        return await journal.cachedOutput(fingerprint: fingerprint)
    }

    /// Ends the unit: its report (the error in words for an outcome without a value), recorded
    /// in the journal with the value and the fingerprint a resumed run reuses it by.
    func end(
        _ outcome: StageOutcome, reused: Bool, model: ResolvedModel?, attempts: Int, usage: TokenUsage = .zero,
        costUSD: Double? = nil, since start: ContinuousClock.Instant, fingerprint: StageFingerprint?
    ) async -> (StageOutcome, StageReport) {
        // The stage as a whole (not an item of its `for_each`: `ForEachRunner` degrades the
        // stage) meets its `on_error` here, before it is recorded.
        if unit.item == nil, case .failed = outcome, stage.onError != .fail {
            var failed = StageReport(
                unit: unit, status: .failed, model: model, attempts: attempts, usage: usage, costUSD: costUSD,
                latency: ContinuousClock.now - start, error: outcome.failure?.description)
            if case .pipeline = stage.kind { failed.withoutModel = StageReport.pipeline }
            let (degraded, report) = stage.degraded(outcome, failed)
            if let journal {
                var output: JSONValue?
                if case .value(let value) = degraded { output = value }
                await journal.record(StageRecord(report: report, output: output, fingerprint: nil))
            }
            return (degraded, report)
        }
        let error: String? = switch outcome {
        case .cancelled: "cancelled"
        case .waiting: "waiting for approval"
        case .value, .skipped: nil
        case .failed(let failure): failure.description
        }
        var report = StageReport(
            unit: unit, status: outcome.status(reused: reused), model: model, attempts: attempts, usage: usage,
            costUSD: costUSD, latency: ContinuousClock.now - start, error: error)
        if case .pipeline = stage.kind { report.withoutModel = StageReport.pipeline }
        if let journal {
            var output: JSONValue?
            if case .value(let value) = outcome { output = value }
            await journal.record(StageRecord(report: report, output: output, stageFingerprint: fingerprint))
        }
        return (outcome, report)
    }
}
