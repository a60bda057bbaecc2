/// Runs a compiled pipeline: each stage starts the moment its last dependency finishes,
/// with at most `concurrency` stages and `for_each` items calling their models at once;
/// each handoff is validated before any stage downstream sees it.
public struct PipelineRunner: Sendable {
    /// Finds the provider for a model (real, or the mock under `--mock`).
    public typealias ProviderResolver = @Sendable (ResolvedModel) throws(ProviderError) -> any ModelProvider
    /// Starts the tool servers of a run, by name (the MCP client in production, another in tests).
    public typealias ToolServersFactory = @Sendable ([String: ToolServerConfig]) -> any ToolServers

    public struct Options: Sendable {
        public var concurrency: Int
        public var retryPolicy: RetryPolicy
        /// Records every call and stage, and finds earlier results for `--resume` and `--cache`.
        public var journal: (any RunJournal)?
        /// `--cache`: every stage reuses the replies of identical earlier calls.
        public var cacheEverything: Bool
        /// Who decides on the stages with `approve: true`.
        public var approval: ApprovalPolicy
        /// Where the stages run: the HTTP client's thread (`HTTPClient.executor`) reads a
        /// reply and sends the next request without waking another thread; nil, Swift's
        /// global executor.
        public var executor: (any TaskExecutor)?
        /// The `--concurrency` bound shared with other runs (a batch's items); nil: the run's own.
        public var calls: CallLimiter?
        /// `--mock`: a command stage with `mock:` values answers with them instead of running
        /// its program (one without runs it: commands are offline).
        public var mockCommands = false
        /// A live display shows each stage's reply as it grows (`pipe run` on a terminal): the
        /// stages' calls report every event (`ModelRequest.liveProgress`). Otherwise a reply is
        /// read once its transfer ends, off the HTTP client's thread.
        public var liveProgress = false
        /// Makes the run's tool servers when a stage has `tools:`; nil: this run cannot start any.
        public var toolServers: ToolServersFactory?
        /// Pipe's environment, for the `${VAR}`s of the tool servers' `env` and headers.
        public var environment: [String: String] = [:]
        /// The tool servers of the run in progress (set by `run`).
        var activeTools: (any ToolServers)?
        /// `record:` of the run in progress (set by `run` from the pipeline).
        var record = RecordPolicy.full
        /// Inside a `pipeline:` stage's child: the parent unit's name and `/` (`team/`,
        /// `team[2]/`), before every unit's name in events, records and the journal.
        var unitPrefix = ""
        /// Values of stages that are not run (`--given`, a test's `given:`): a pipeline of one
        /// stage (`CompiledPipeline.only`) reads them as its upstream stages' values.
        public var given: [String: JSONValue] = [:]

        public init(
            concurrency: Int = 8, retryPolicy: RetryPolicy = RetryPolicy(), journal: (any RunJournal)? = nil,
            cacheEverything: Bool = false, approval: ApprovalPolicy = ApprovalPolicy(), executor: (any TaskExecutor)? = nil
        ) {
            self.approval = approval
            self.executor = executor
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
            case stageFailed(stage: RunUnitID, attempts: Int, failure: StageFailure)
            /// A budget would be exceeded (exit 4): before a unit called its model, or (no
            /// unit) when the run reached its time budget.
            case budgetExceeded(stage: RunUnitID?, failure: StageFailure)
            /// The run was cancelled (Ctrl-C, exit 130).
            case interrupted
            /// Stages with `approve: true` wait for a person (exit 5); the finished work is kept.
            case waitingForApproval([PendingApproval])

            /// The run's status, as the run store and the trace record it.
            public var status: RunStatus {
                switch self {
                case .succeeded: .succeeded
                case .stageFailed: .failed
                case .budgetExceeded: .budgetExceeded
                case .interrupted: .interrupted
                case .waitingForApproval: .waitingForApproval
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
    /// The runner of each loop's iterations, by the loop's last stage.
    let loopRunners: [String: PipelineRunner]
    /// The runner of each `pipeline:` stage's child and its input's validator, by the stage's name.
    let childRunners: [String: (runner: PipelineRunner, input: JSONSchema?)]
    let resolveProvider: ProviderResolver
    var options: Options
    /// What every run of this runner schedules, made once: the units and what each waits for.
    let plan: Plan

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
        plan = Plan(pipeline, validators: validators)
        var loopRunners: [String: PipelineRunner] = [:]
        for loop in pipeline.loops {
            loopRunners[loop.end] = PipelineRunner(
                iterationOf: loop, in: pipeline, validators: validators, options: options, resolveProvider: resolveProvider)
        }
        self.loopRunners = loopRunners
        var childRunners: [String: (runner: PipelineRunner, input: JSONSchema?)] = [:]
        for stage in pipeline.stages {
            guard case .pipeline(let child) = stage.kind else { continue }
            var childOptions = options
            childOptions.given = [:]
            childOptions.toolServers = nil
            childOptions.cacheEverything = options.cacheEverything || child.cache
            childRunners[stage.name] = (
                try PipelineRunner(pipeline: child.child, options: childOptions, resolveProvider: resolveProvider),
                try child.child.inputSchema.map { schema throws(SchemaError) in try JSONSchema(compiling: schema) }
            )
        }
        self.childRunners = childRunners
    }

    /// The runner of one iteration of a loop: its members, with their dependencies on each
    /// other (the ones outside come from the values around the loop).
    private init(
        iterationOf loop: CompiledLoop, in pipeline: CompiledPipeline, validators: [String: JSONSchema], options: Options,
        resolveProvider: @escaping ProviderResolver
    ) {
        let members = Set(loop.members)
        let stages = loop.members.compactMap(pipeline.stage(named:)).map { stage -> CompiledStage in
            var inner = stage
            inner.dependencies = stage.dependencies.filter(members.contains)
            // Inside its iteration, a member is scheduled like any stage.
            inner.loop = nil
            return inner
        }
        let edges = stages.flatMap { stage in
            stage.dependencies.map { DAG.Edge(stage: stage.name, dependency: $0, span: stage.span) }
        }
        let dag = DAG.build(stages: stages.map(\.name), edges: edges).dag
        self.pipeline = CompiledPipeline(
            name: pipeline.name, source: pipeline.source, inputSchema: pipeline.inputSchema,
            stages: dag.order.compactMap { name in stages.first { $0.name == name } }, dag: dag, output: .sinks(dag.sinks),
            budget: pipeline.budget)
        self.validators = validators
        plan = Plan(self.pipeline, validators: validators)
        self.options = options
        self.resolveProvider = resolveProvider
        self.loopRunners = [:]
        self.childRunners = [:]
    }

    /// The same runner writing to another journal (a run store's, for one run).
    public func with(journal: (any RunJournal)?) -> PipelineRunner {
        var copy = self
        copy.options.journal = journal
        return copy
    }

    /// The same runner naming its units under `prefix` (a child spec's, `team/`).
    func with(unitPrefix prefix: String) -> PipelineRunner {
        var copy = self
        copy.options.unitPrefix = prefix
        return copy
    }

    /// The same runner recording as the run in progress does (`record:`): a loop's iterations
    /// and a child spec's stages are hashed as their parent's run says.
    func with(record: RecordPolicy) -> PipelineRunner {
        var copy = self
        copy.options.record = record
        return copy
    }

    /// The same runner with the tool servers of the run in progress.
    func with(toolServers: (any ToolServers)?) -> PipelineRunner {
        var copy = self
        copy.options.activeTools = toolServers
        return copy
    }

    /// What the scheduler starts as one: a stage, or a loop's group of stages.
    enum Unit: Sendable {
        case stage(PlannedStage)
        case loop(CompiledLoop)
    }

    /// A stage as every run starts it, made once per runner: each unit's context refers to
    /// it, not to a copy of the stage (thousands of runs wait at once under `pipe batch
    /// --provider-batch`, BENCHMARKS.md).
    final class PlannedStage: Sendable {
        let stage: CompiledStage
        let name: String
        let executor: any StageExecutor
        let validator: JSONSchema?
        /// No wrapper but the permit: no `approve`, no `for_each`, not a child spec.
        let plain: Bool
        /// The names the stage may read (`CompiledStage.reads`), for each of its runs.
        let reads: Set<String>
        /// What the stage's fingerprint holds besides its rendered inputs, made when first
        /// needed (a recorded run's stage record) and then kept for every run of the runner.
        var fingerprintParts: Fingerprint.StageParts { madeParts.value { Fingerprint.StageParts(stage) } }
        private let madeParts = Locked<Fingerprint.StageParts?>(nil)

        init(_ stage: CompiledStage, validator: JSONSchema?) {
            self.stage = stage
            name = stage.name
            executor = stage.kind.executor
            self.validator = validator
            plain = if case .pipeline = stage.kind { false } else { !stage.approve && stage.forEach == nil }
            reads = stage.reads
        }
    }

    /// The units of a pipeline and what each waits for, the same for every run: a run's
    /// scheduler keeps only counts and indexes.
    final class Plan: Sendable {
        let units: [Unit]
        /// How many stages outside each unit it waits for.
        let needs: [Int]
        /// The units that wait for each stage.
        let dependents: [String: [Int]]
        /// The units that wait for nothing, in order.
        let ready: [Int]

        init(_ pipeline: CompiledPipeline, validators: [String: JSONSchema]) {
            units = pipeline.stages.filter { $0.loop == nil }.map { .stage(PlannedStage($0, validator: validators[$0.name])) }
                + pipeline.loops.map(Unit.loop)
            let waitingFor = units.map { unit in
                switch unit {
                case .stage(let planned): return Set(planned.stage.dependencies)
                case .loop(let loop):
                    let members = Set(loop.members)
                    return Set(loop.members.compactMap(pipeline.stage(named:)).flatMap(\.dependencies)).subtracting(members)
                }
            }
            var dependents: [String: [Int]] = [:]
            for (index, needs) in waitingFor.enumerated() {
                for name in needs { dependents[name, default: []].append(index) }
            }
            self.dependents = dependents
            needs = waitingFor.map(\.count)
            ready = waitingFor.indices.filter { waitingFor[$0].isEmpty }
        }
    }

    /// A unit's stages as they ended: their names, outcomes and reports.
    typealias Ended = [(name: String, outcome: StageOutcome, report: StageReport)]

    private enum Completion: Sendable {
        case finished(Ended)
        case deadline
        case watchdogStopped
    }

    /// What `schedule` leaves: how it stopped (nil when every stage ended well), the
    /// reports, the values, and whether every stage ended.
    struct Scheduled: Sendable {
        var outcome: Result.Outcome?
        var reports: [StageReport]
        var values: [String: JSONValue]
        var complete: Bool
    }

    /// Runs the pipeline on a validated input. Cancelling the calling task interrupts the run.
    public func run(input: JSONValue, events: @escaping @Sendable (RunEvent) -> Void = { _ in }) async -> Result {
        await run(input: input, journal: options.journal, events: events)
    }

    /// The same, recording in `journal` (a run store's, for one run): what
    /// `with(journal:).run(input:events:)` does, without the copy of the runner that the
    /// caller's frame would hold while the run waits.
    public func run(input: JSONValue, journal: (any RunJournal)?, events: @escaping @Sendable (RunEvent) -> Void = { _ in }) async
        -> Result
    {
        // What the run needs, in one object: this frame is held while the run waits.
        let prepared: Prepared
        switch prepare(journal: journal) {
        case .failure(let failed): return failed.result
        case .success(let made): prepared = made
        }
        await prepared.schedule(input: input, events: events)
        return prepared.result()
    }

    /// The runner of one run, its ledger, call limiter and deadline, and how its units ended.
    /// Used by the run's task only.
    private final class Prepared: @unchecked Sendable {
        let runner: PipelineRunner
        let ledger: BudgetLedger
        let calls: CallLimiter
        let start: ContinuousClock.Instant
        let deadline: ContinuousClock.Instant?
        var scheduled = Scheduled(outcome: nil, reports: [], values: [:], complete: false)

        init(runner: PipelineRunner, ledger: BudgetLedger, calls: CallLimiter, start: ContinuousClock.Instant) {
            self.runner = runner
            self.ledger = ledger
            self.calls = calls
            self.start = start
            deadline = runner.pipeline.budget.maxDuration.map { start + $0 }
        }

        @inline(never)
        func schedule(input: JSONValue, events: @escaping @Sendable (RunEvent) -> Void) async {
            let seed = runner.options.given.merging(["input": input]) { _, input in input }
            scheduled = await withTaskExecutorPreference(runner.options.executor) { [self] in
                await runner.schedule(
                    seed: seed, ledger: ledger, calls: calls, deadline: deadline, iteration: nil, watchdog: true, events: events)
            }
            await runner.options.activeTools?.shutdown()
        }

        @inline(never)
        func result() -> Result {
            let pipeline = runner.pipeline
            let outcome = scheduled.outcome
                ?? (Task.isCancelled || !scheduled.complete
                    ? .interrupted : .succeeded(OutputAssembler.assemble(pipeline.output, values: scheduled.values)))
            let usage = scheduled.reports.reduce(TokenUsage.zero) { $0 + $1.usage }
            let cost = scheduled.reports.reduce(0.0) { $0 + ($1.costUSD ?? 0) }
            return Result(
                outcome: outcome, stages: scheduled.reports, wall: ContinuousClock.now - start, usage: usage, costUSD: cost,
                values: scheduled.values)
        }
    }

    /// A run that could not start (its tool servers).
    private struct NotStarted: Error {
        var result: Result
    }

    @inline(never)
    private func prepare(journal: (any RunJournal)?) -> Swift.Result<Prepared, NotStarted> {
        let start = ContinuousClock.now
        let ledger = BudgetLedger(maxTokens: pipeline.budget.maxTokens, maxCostUSD: pipeline.budget.maxCostUSD)
        let calls = options.calls ?? CallLimiter(limit: options.concurrency)
        // What is recorded and traced is hashed as `record:` says (the calls by their executor,
        // once for the trace and the store; the stages' values by the journal); the stages see
        // the real values.
        var runner = self.with(journal: pipeline.record.journal(journal))
        runner.options.record = pipeline.record
        // One set of tool servers for the run, stopped when it ends, however it ends.
        if pipeline.usesTools {
            do throws(ToolSetupError) {
                guard let factory = options.toolServers else { throw .unavailable }
                runner.options.activeTools = factory(try pipeline.toolServerConfigs(environment: options.environment))
            } catch {
                let stage = pipeline.stages.first { !$0.kind.tools.isEmpty }?.name ?? pipeline.name
                return .failure(NotStarted(result: Result(
                    outcome: .stageFailed(stage: RunUnitID(stage: stage), attempts: 0, failure: .toolSetup(error)), stages: [],
                    wall: ContinuousClock.now - start, usage: .zero, costUSD: 0, values: [:])))
            }
        }
        return .success(Prepared(runner: runner, ledger: ledger, calls: calls, start: start))
    }

    /// Starts each unit the moment the stages it reads have ended, up to `concurrency` at
    /// once; `calls` bounds the stages and items calling their models across the whole run.
    /// `seed` holds the values known before (the input; for a loop's iteration, the
    /// values around it and the previous iteration's). `iteration` labels the stages of a
    /// loop's iteration (`writer@2`).
    ///
    /// A failed stage cancels the others; a budget stop lets the calls in flight finish (the
    /// ledger refuses every later call), so their usage is counted as the provider bills it.
    ///
    /// This loop's async frame is held for as long as the run waits (thousands of runs at once
    /// under `pipe batch --provider-batch`): what it decides is in `Scheduler`, a class whose
    /// methods are not inlined here, so the frame holds little more than a reference.
    func schedule(
        seed: [String: JSONValue], ledger: BudgetLedger, calls: CallLimiter, deadline: ContinuousClock.Instant?,
        iteration: Int?, watchdog: Bool, events: @escaping @Sendable (RunEvent) -> Void
    ) async -> Scheduled {
        let scheduler = Scheduler(
            self, seed: seed, ledger: ledger, calls: calls, deadline: deadline, iteration: iteration, events: events)
        await withTaskGroup(of: Completion.self) { group in
            if watchdog, let deadline { Self.watch(deadline, in: &group) }
            while true {
                // A unit its `when` skips is recorded before the units after it start.
                while scheduler.startReady(in: &group) { await scheduler.recordSkipped() }
                if scheduler.isOver {
                    group.cancelAll()
                    break
                }
                guard let completion = await group.next() else { break }
                if scheduler.handle(completion, in: &group) { await scheduler.recordWaiting() }
                scheduler.tellJournalIfIdle()
            }
        }
        return scheduler.scheduled()
    }

    /// Ends the run at its time budget (`max_duration`).
    @inline(never)
    private static func watch(_ deadline: ContinuousClock.Instant, in group: inout TaskGroup<Completion>) {
        group.addTask {
            do {
                try await Task.sleep(until: deadline, clock: .continuous)
                return .deadline
            } catch {
                return .watchdogStopped
            }
        }
    }

    /// The state of one `schedule`: the units, what each still waits for, the values and
    /// reports so far, and how the run stopped. Only the scheduling task uses it.
    private final class Scheduler {
        let runner: PipelineRunner
        let ledger: BudgetLedger
        let calls: CallLimiter
        let deadline: ContinuousClock.Instant?
        let iteration: Int?
        let events: @Sendable (RunEvent) -> Void
        var values: [String: JSONValue]
        var reports: [StageReport] = []
        var outcome: Result.Outcome?
        /// How many stages outside each unit have not ended (`Plan.needs` at first): a stage's
        /// end touches only the units that read it (`Plan.dependents`).
        var waitingFor: [Int]
        /// The units ready to start, in order; `nextReady` is the first not started yet.
        var ready: [Int]
        var nextReady = 0
        var running = 0
        var unfinished: Int

        @inline(never)
        init(
            _ runner: PipelineRunner, seed: [String: JSONValue], ledger: BudgetLedger, calls: CallLimiter,
            deadline: ContinuousClock.Instant?, iteration: Int?, events: @escaping @Sendable (RunEvent) -> Void
        ) {
            self.runner = runner
            self.ledger = ledger
            self.calls = calls
            self.deadline = deadline
            self.iteration = iteration
            self.events = events
            values = seed
            waitingFor = runner.plan.needs
            ready = runner.plan.ready
            unfinished = runner.pipeline.stages.count
        }

        /// A stage ended (with or without a value), once: the units that waited for it may start.
        func release(_ name: String) {
            for index in runner.plan.dependents[name] ?? [] {
                waitingFor[index] -= 1
                if waitingFor[index] == 0 { ready.append(index) }
            }
        }

        /// The records to write before going on: a skipped unit's, the units waiting for approval.
        var toRecord: [StageRecord] = []

        /// Starts the ready units, up to the concurrency; stops at a unit its `when` skips
        /// (true): its record is to be written (`recordSkipped`) before the units after it start.
        @inline(never)
        func startReady(in group: inout TaskGroup<Completion>) -> Bool {
            while outcome == nil, running < runner.options.concurrency, nextReady < ready.count, !Task.isCancelled {
                let unit = runner.plan.units[ready[nextReady]]
                nextReady += 1
                switch runner.start(
                    unit, values: values, ledger: ledger, calls: calls, deadline: deadline, iteration: iteration, events: events)
                {
                case .skipped(let report):
                    // No value, no call; the stages after it go on without it.
                    reports.append(report)
                    events(.stageFinished(report))
                    unfinished -= 1
                    toRecord = [StageRecord(report: report, output: nil, fingerprint: nil)]
                    return true
                case .run(let work):
                    running += 1
                    group.addTask { .finished(await work()) }
                }
            }
            return false
        }

        /// Writes the skipped unit's record, then lets the units after it start.
        @inline(never)
        func recordSkipped() async {
            let records = toRecord
            toRecord = []
            for record in records {
                await runner.options.journal?.record(record)
                release(record.report.unit.stage)
            }
        }

        /// Tells the journal when no unit runs (`RunJournal.idle`): a chain's records are then
        /// committed while the next stage's request is made, a fan-out's wait for more.
        @inline(never)
        func tellJournalIfIdle() {
            if running == 0 { runner.options.journal?.idle() }
        }

        /// Writes the records of the units waiting for approval.
        @inline(never)
        func recordWaiting() async {
            let records = toRecord
            toRecord = []
            for record in records { await runner.options.journal?.record(record) }
        }

        /// Whether nothing is left to wait for: every stage ended, or nothing runs and nothing
        /// more may start.
        var isOver: Bool {
            unfinished == 0 || (running == 0 && (outcome != nil || Task.isCancelled || nextReady == ready.count))
        }

        /// Takes in how a task of the group ended; true when the journal must record the
        /// stages waiting for approval (`recordWaiting`).
        @inline(never)
        func handle(_ completion: Completion, in group: inout TaskGroup<Completion>) -> Bool {
            var records: [StageRecord] = []
            switch completion {
            case .deadline:
                if unfinished > 0 {
                    if outcome == nil {
                        outcome = .budgetExceeded(
                            stage: nil, failure: .runTimeBudget(maxDuration: runner.pipeline.budget.maxDuration ?? .zero))
                    }
                    group.cancelAll()
                }
            case .watchdogStopped:
                break
            case .finished(let ended):
                running -= 1
                for (name, result, report) in ended {
                    unfinished -= 1
                    reports.append(report)
                    events(.stageFinished(report))
                    switch result {
                    case .value(let value):
                        values[name] = value
                        release(name)
                    case .skipped:
                        release(name)
                    case .failed(let failure) where failure.isBudget:
                        // No cancelling: the calls in flight fit their reservations and are billed.
                        if outcome == nil {
                            outcome = .budgetExceeded(stage: report.unit, failure: failure)
                        }
                    case .failed(let failure):
                        if outcome == nil {
                            outcome = .stageFailed(stage: report.unit, attempts: report.attempts, failure: failure)
                            group.cancelAll()
                        }
                    case .waiting(let pending):
                        records.append(StageRecord(report: report, output: nil, fingerprint: nil))
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
            toRecord = records
            return !records.isEmpty
        }

        @inline(never)
        func scheduled() -> Scheduled {
            let ended = reports.filter { [.succeeded, .reused, .skipped, .failedSkipped, .failedDefault].contains($0.status) }.count
            return Scheduled(outcome: outcome, reports: reports, values: values, complete: ended >= runner.pipeline.stages.count)
        }
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
