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
        }
    }
}

/// What a unit's run gets from the run around it.
struct StageContext: Sendable {
    let stage: CompiledStage
    /// Which run of the stage this is; events and records name it so.
    let unit: RunUnitID
    let validator: JSONSchema?
    /// The values the unit reads (with a `for_each`'s item).
    let renderer: TemplateRenderer
    let ledger: BudgetLedger
    let resolveProvider: PipelineRunner.ProviderResolver
    let retryPolicy: RetryPolicy
    let deadline: ContinuousClock.Instant?
    let journal: (any RunJournal)?
    /// `--cache`: every stage reuses the replies of identical earlier calls.
    let cacheEverything: Bool
    /// The run's tool servers, when a stage uses tools.
    var toolServers: (any ToolServers)? = nil
    let events: @Sendable (RunEvent) -> Void

    /// The unit of item `index` of a `for_each`, with the item in its values as `name`.
    func item(_ index: Int, _ value: JSONValue, named name: String) -> StageContext {
        var values = renderer.values
        values[name] = value
        return StageContext(
            stage: stage, unit: unit.item(index), validator: validator, renderer: TemplateRenderer(values: values),
            ledger: ledger, resolveProvider: resolveProvider, retryPolicy: retryPolicy, deadline: deadline, journal: journal,
            cacheEverything: cacheEverything, toolServers: toolServers, events: events)
    }
}

extension StageReport {
    /// The report of a unit that made no call: skipped, held for approval, or not reached.
    static func empty(_ unit: RunUnitID, _ status: Status, stage: CompiledStage) -> StageReport {
        let model: ResolvedModel
        switch stage.kind {
        case .model(let settings): model = settings.model
        }
        return StageReport(
            unit: unit, status: status, model: model, attempts: 0, usage: .zero, costUSD: nil, latency: .zero, error: nil)
    }
}
