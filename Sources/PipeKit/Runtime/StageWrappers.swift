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
                renderer: TemplateRenderer(values: values), ledger: ledger, resolveProvider: resolveProvider,
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
            let executor = stage.kind.executor
            let approval = options.approval
            let itemConcurrency = options.concurrency
            return .run {
                if stage.approve, let held = await approval.hold(context, executor) {
                    return [(stage.name, held.0, held.1)]
                }
                // A child spec's stages take their own permits: its stage holds none.
                let (outcome, report) = stage.forEach == nil
                    ? (context.child != nil ? await executor.run(context) : await calls.withPermit { await executor.run(context) })
                    : await ForEachRunner(executor: executor, context: context, concurrency: itemConcurrency, calls: calls).run()
                return [(stage.name, outcome, report)]
            }
        }
    }
}
