/// Runs a compiled pipeline: each stage starts the moment its last dependency finishes,
/// up to `concurrency` at once; each handoff is validated before any stage downstream sees it.
public struct PipelineRunner: Sendable {
    /// Finds the provider for a model (real, or the mock under `--mock`).
    public typealias ProviderResolver = @Sendable (ResolvedModel) throws(ProviderError) -> any ModelProvider

    public struct Options: Sendable {
        public var concurrency: Int
        public var retryPolicy: RetryPolicy
        /// Records every call and stage, and finds earlier results for `--resume` and `--cache`.
        public var journal: (any RunJournal)?
        /// `--cache`: every stage reuses the replies of identical earlier calls.
        public var cacheEverything: Bool
        /// Who decides on the stages with `approve: true`.
        public var approval: ApprovalPolicy

        public init(
            concurrency: Int = 8, retryPolicy: RetryPolicy = RetryPolicy(), journal: (any RunJournal)? = nil,
            cacheEverything: Bool = false, approval: ApprovalPolicy = ApprovalPolicy()
        ) {
            self.approval = approval
            self.concurrency = max(1, concurrency)
            self.retryPolicy = retryPolicy
            self.journal = journal
            self.cacheEverything = cacheEverything
        }
    }

    public struct Result: Sendable {
        public enum Outcome: Sendable {
            case succeeded(JSONValue)
            /// A stage failed after its retries and fallbacks (exit 1).
            case stageFailed(stage: String, attempts: Int, error: String)
            /// A budget would be exceeded (exit 4).
            case budgetExceeded(stage: String?, reason: String)
            /// The run was cancelled (Ctrl-C, exit 130).
            case interrupted
            /// Stages with `approve: true` wait for a person (exit 5); the finished work is kept.
            case waitingForApproval([PendingApproval])

            /// As the trace and the run store name it.
            public var status: String {
                switch self {
                case .succeeded: "succeeded"
                case .stageFailed: "failed"
                case .budgetExceeded: "budget_exceeded"
                case .interrupted: "interrupted"
                case .waitingForApproval: "waiting_for_approval"
                }
            }
        }

        public var outcome: Outcome
        /// Finished and failed stages, in the order they ended.
        public var stages: [StageReport]
        public var wall: Duration
        public var usage: TokenUsage
        public var costUSD: Double
        /// Every finished stage's value, by name.
        public var values: [String: JSONValue]
    }

    public let pipeline: CompiledPipeline
    let validators: [String: JSONSchema]
    let resolveProvider: ProviderResolver
    var options: Options

    /// Compiles every output schema once; the validators are reused for every reply and retry.
    public init(pipeline: CompiledPipeline, options: Options = Options(), resolveProvider: @escaping ProviderResolver)
        throws(SchemaError)
    {
        self.pipeline = pipeline
        self.options = options
        self.resolveProvider = resolveProvider
        var validators: [String: JSONSchema] = [:]
        for stage in pipeline.stages {
            if let schema = stage.outputSchema { validators[stage.name] = try JSONSchema(compiling: schema) }
        }
        self.validators = validators
    }

    /// The same runner writing to another journal (a run store's, for one run).
    public func with(journal: (any RunJournal)?) -> PipelineRunner {
        var copy = self
        copy.options.journal = journal
        return copy
    }

    private enum Completion: Sendable {
        case stage(StageRunner.Outcome, StageReport)
        case deadline
        case watchdogStopped
    }

    /// Runs the pipeline on a validated input. Cancelling the calling task interrupts the run.
    public func run(input: JSONValue, events: @escaping @Sendable (RunEvent) -> Void = { _ in }) async -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = pipeline.budget.maxDuration.map { start + $0 }
        let ledger = BudgetLedger(maxTokens: pipeline.budget.maxTokens, maxCostUSD: pipeline.budget.maxCostUSD)
        var values: [String: JSONValue] = ["input": input]
        var reports: [StageReport] = []
        var outcome: Result.Outcome?
        var waiting = Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.dependencies.count) })
        var ready = pipeline.stages.filter { $0.dependencies.isEmpty }
        var running = 0
        var unfinished = pipeline.stages.count

        await withTaskGroup(of: Completion.self) { group in
            if let deadline {
                group.addTask {
                    do {
                        try await Task.sleep(until: deadline, clock: .continuous)
                        return .deadline
                    } catch {
                        return .watchdogStopped
                    }
                }
            }
            while true {
                while outcome == nil, running < options.concurrency, !ready.isEmpty, !Task.isCancelled {
                    let stage = ready.removeFirst()
                    if let condition = stage.when {
                        let renderer = TemplateRenderer(values: values)
                        if !ExpressionEvaluator.holds(condition, value: { renderer.value(of: $0) }) {
                            // Skipped: no value, no call; the stages after it go on without it.
                            let report = StageReport(
                                stage: stage.name, status: .skipped, model: stage.model, attempts: 0, usage: .zero,
                                costUSD: nil, latency: .zero, error: nil)
                            reports.append(report)
                            events(.stageFinished(report))
                            await options.journal?.record(StageRecord(report: report, output: nil, fingerprint: "skipped"))
                            unfinished -= 1
                            for dependent in pipeline.dag.dependents[stage.name] ?? [] {
                                waiting[dependent, default: 0] -= 1
                                if waiting[dependent] == 0, let next = pipeline.stage(named: dependent) { ready.append(next) }
                            }
                            continue
                        }
                    }
                    let runner = StageRunner(
                        stage: stage, label: stage.name, validator: validators[stage.name],
                        renderer: TemplateRenderer(values: values), ledger: ledger, resolveProvider: resolveProvider,
                        retryPolicy: options.retryPolicy, deadline: deadline, journal: options.journal,
                        cache: stage.cache || options.cacheEverything, events: events)
                    running += 1
                    let itemConcurrency = options.concurrency
                    let approval = options.approval
                    group.addTask {
                        if stage.approve, let held = await approval.hold(runner) { return .stage(held.0, held.1) }
                        let (result, report) = stage.forEach == nil
                            ? await runner.run() : await ForEachRunner(template: runner, concurrency: itemConcurrency).run()
                        return .stage(result, report)
                    }
                }
                if unfinished == 0 || (running == 0 && (outcome != nil || Task.isCancelled)) {
                    group.cancelAll()
                    break
                }
                guard let completion = await group.next() else { break }
                switch completion {
                case .deadline:
                    if outcome == nil, unfinished > 0 {
                        outcome = .budgetExceeded(
                            stage: nil, reason: "time budget: the run reached budget.max_duration (\(DurationFormat.short(pipeline.budget.maxDuration ?? .zero)))")
                        group.cancelAll()
                    }
                case .watchdogStopped:
                    break
                case .stage(let result, let report):
                    running -= 1
                    unfinished -= 1
                    reports.append(report)
                    events(.stageFinished(report))
                    switch result {
                    case .value(let value):
                        values[report.stage] = value
                        for dependent in pipeline.dag.dependents[report.stage] ?? [] {
                            waiting[dependent, default: 0] -= 1
                            if waiting[dependent] == 0, let next = pipeline.stage(named: dependent) { ready.append(next) }
                        }
                    case .failed(let error):
                        if outcome == nil {
                            outcome = .stageFailed(stage: report.stage, attempts: report.attempts, error: error)
                            group.cancelAll()
                        }
                    case .budgetExceeded(let reason):
                        if outcome == nil {
                            outcome = .budgetExceeded(stage: report.stage, reason: reason)
                            group.cancelAll()
                        }
                    case .waiting(let pending):
                        await options.journal?.record(StageRecord(report: report, output: nil, fingerprint: "approval"))
                        // Stop starting stages, but let the ones in flight finish: their work is kept.
                        if case .waitingForApproval(let others) = outcome {
                            outcome = .waitingForApproval(others + [pending])
                        } else if outcome == nil {
                            outcome = .waitingForApproval([pending])
                        }
                    case .cancelled:
                        break
                    }
                }
            }
        }
        if outcome == nil {
            let skipped = reports.filter { $0.status == .skipped }.count
            outcome = Task.isCancelled || values.count + skipped < pipeline.stages.count + 1
                ? .interrupted : .succeeded(OutputAssembler.assemble(pipeline.output, values: values))
        }
        let usage = reports.reduce(TokenUsage.zero) { $0 + $1.usage }
        let cost = reports.reduce(0.0) { $0 + ($1.costUSD ?? 0) }
        return Result(
            outcome: outcome!, stages: reports, wall: clock.now - start, usage: usage, costUSD: cost, values: values)
    }
}

/// The pipeline's result, from the finished stages' values.
public enum OutputAssembler {
    public static func assemble(_ output: PipelineOutput, values: [String: JSONValue]) -> JSONValue {
        let renderer = TemplateRenderer(values: values)
        switch output {
        case .single(let template):
            return renderer.evaluate(template)
        case .fields(let fields):
            return .object(JSONObject(fields.map { ($0.name, renderer.evaluate($0.template)) }))
        case .sinks(let names):
            return .object(JSONObject(names.map { ($0, values[$0] ?? .null) }))
        }
    }
}

/// Durations the way a person reads them: `850ms`, `2.4s`, `3m05s`.
public enum DurationFormat {
    public static func short(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return "\((seconds * 10).rounded() / 10)s" }
        let whole = Int(seconds.rounded())
        let minutes = whole / 60, rest = whole % 60
        return "\(minutes)m\(rest < 10 ? "0" : "")\(rest)s"
    }
}
