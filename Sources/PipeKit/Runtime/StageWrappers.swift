/// The wrappers around a stage of any kind, composed in one place: `when` (skip it),
/// `approve` (hold it for a person), `for_each` (run it once per item), around its kind's
/// executor; and `loop`, which runs a group of stages again as one unit (`LoopRunner`).
extension PipelineRunner {
    /// How a unit starts: a `when` that does not hold skips the stage at once (it takes no
    /// slot); anything else is work for a task of the scheduler.
    enum Start: Sendable {
        case skipped(StageReport)
        case run(@Sendable () async -> Ended)
    }

    /// The values of `values` that `stage` may read (`CompiledStage.reads`), as a dictionary
    /// of its own. The scheduler adds each stage's value to its dictionary while the stages
    /// started before run: had they kept that dictionary, every value added would copy it
    /// whole (500 stages: 500 copies of up to 500 values, on the thread that drives HTTP).
    static func values(_ values: [String: JSONValue], readBy stage: CompiledStage) -> [String: JSONValue] {
        var visible: [String: JSONValue] = [:]
        for name in stage.reads {
            if let value = values[name] { visible[name] = value }
        }
        return visible
    }

    /// `values`: what the unit reads; `iteration`: the loop's iteration it belongs to.
    func start(
        _ unit: Unit, values: [String: JSONValue], ledger: BudgetLedger, calls: CallLimiter,
        deadline: ContinuousClock.Instant?, iteration: Int?, events: @escaping @Sendable (RunEvent) -> Void
    ) -> Start {
        switch unit {
        case .loop(let loop):
            guard let runner = loopRunners[loop.end]?.with(journal: options.journal).with(toolServers: options.activeTools)
                .with(unitPrefix: options.unitPrefix).with(record: options.record)
            else { return .run { [] } }
            return .run {
                await LoopRunner(loop: loop, iteration: runner).run(
                    values: values, ledger: ledger, calls: calls, deadline: deadline, events: events)
            }
        case .stage(let stage):
            let context = StageContext(
                stage: stage, unit: RunUnitID(stage: options.unitPrefix + stage.name, iteration: iteration), validator: validators[stage.name],
                renderer: TemplateRenderer(values: Self.values(values, readBy: stage)), ledger: ledger, resolveProvider: resolveProvider,
                retryPolicy: options.retryPolicy, deadline: deadline, journal: options.journal,
                cacheEverything: options.cacheEverything, mockCommands: options.mockCommands, toolServers: options.activeTools,
                record: options.record,
                child: childRunners[stage.name].map { ChildRun(runner: $0.runner.with(journal: options.journal).with(record: options.record), input: $0.input, calls: calls) },
                events: events)
            if let condition = stage.when,
                !ExpressionEvaluator.holds(condition, value: { context.renderer.value(of: $0) })
            {
                return .skipped(.empty(context.unit, .skipped, stage: stage))
            }
            let (executor, approval, itemConcurrency) = (stage.kind.executor, options.approval, options.concurrency)
            return .run { await Self.run(context, executor, approval: approval, itemConcurrency: itemConcurrency, calls: calls) }
        }
    }

    /// A stage's unit inside its wrappers: held for approval, run once or once per
    /// `for_each` item. Not inlined into the task's closure: its frame is held while the unit
    /// waits for its call.
    @inline(never)
    private static func run(
        _ context: StageContext, _ executor: any StageExecutor, approval: ApprovalPolicy, itemConcurrency: Int, calls: CallLimiter
    ) async -> Ended {
        if context.stage.approve, let held = await hold(context, executor, approval) {
            return [(context.stage.name, held.0, held.1)]
        }
        // A child spec's stages take their own permits: its stage holds none.
        let (outcome, report) = context.stage.forEach != nil
            ? await forEach(context, executor, itemConcurrency: itemConcurrency, calls: calls)
            : context.child != nil ? await executor.run(context) : await calls.withPermit { await executor.run(context) }
        return [(context.stage.name, outcome, report)]
    }

    @inline(never)
    private static func hold(_ context: StageContext, _ executor: any StageExecutor, _ approval: ApprovalPolicy) async
        -> (StageOutcome, StageReport)?
    {
        await approval.hold(context, executor)
    }

    @inline(never)
    private static func forEach(_ context: StageContext, _ executor: any StageExecutor, itemConcurrency: Int, calls: CallLimiter)
        async -> (StageOutcome, StageReport)
    {
        await ForEachRunner(executor: executor, context: context, concurrency: itemConcurrency, calls: calls).run()
    }
}
