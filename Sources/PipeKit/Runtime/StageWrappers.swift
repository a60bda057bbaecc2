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

    /// The values of `values` that a stage may read (`reads`, its `CompiledStage.reads`), as a
    /// dictionary of its own. The scheduler adds each stage's value to its dictionary while
    /// the stages started before run: had they kept that dictionary, every value added would
    /// copy it whole (500 stages: 500 copies of up to 500 values, on the thread that drives HTTP).
    static func values(_ values: [String: JSONValue], readBy reads: Set<String>) -> [String: JSONValue] {
        var visible: [String: JSONValue] = [:]
        for name in reads {
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
        case .stage(let planned):
            let stage = planned.stage
            let context = StageContext(
                planned, unit: RunUnitID(stage: options.unitPrefix + stage.name, iteration: iteration),
                renderer: TemplateRenderer(values: Self.values(values, readBy: planned.reads)), ledger: ledger, resolveProvider: resolveProvider,
                retryPolicy: options.retryPolicy, deadline: deadline, journal: options.journal,
                cacheEverything: options.cacheEverything, mockCommands: options.mockCommands,
                liveProgress: options.liveProgress, toolServers: options.activeTools,
                record: options.record,
                child: childRunners[stage.name].map {
                    ChildRun(runner: $0.runner.with(journal: options.journal).with(record: options.record), input: $0.input, calls: calls)
                },
                events: events)
            if let condition = stage.when,
                !ExpressionEvaluator.holds(condition, value: { context.renderer.value(of: $0) })
            {
                return .skipped(.empty(context.unit, .skipped, stage: stage))
            }
            let unit = UnitRun(context, approval: options.approval, itemConcurrency: options.concurrency, calls: calls)
            return .run { await unit.run() }
        }
    }

    /// A stage's unit inside its wrappers: held for approval, run once or once per
    /// `for_each` item. A class, so that the task's closure holds one reference; its async
    /// functions only call the next one and keep the unit's result: their frames are held
    /// while the unit waits for its call (thousands of units at once under `pipe batch
    /// --provider-batch`; an async frame keeps every temporary of the code inlined into it).
    final class UnitRun: Sendable {
        let context: StageContext
        let approval: ApprovalPolicy
        let itemConcurrency: Int
        let calls: CallLimiter

        init(_ context: StageContext, approval: ApprovalPolicy, itemConcurrency: Int, calls: CallLimiter) {
            self.context = context
            self.approval = approval
            self.itemConcurrency = itemConcurrency
            self.calls = calls
        }

        @inline(never)
        func run() async -> Ended {
            let ended = await unit()
            return Self.ended(context.planned.name, ended)
        }

        @inline(never)
        private static func ended(_ name: String, _ ended: (StageOutcome, StageReport)) -> Ended {
            [(name, ended.0, ended.1)]
        }

        /// The unit's outcome and report (returned straight into `run`'s frame).
        @inline(never)
        private func unit() async -> (StageOutcome, StageReport) {
            if context.planned.plain { return await calls.run(context) }
            return await wrapped()
        }

        /// A unit with `approve`, `for_each` or a child spec.
        @inline(never)
        private func wrapped() async -> (StageOutcome, StageReport) {
            if context.stage.approve, let held = await approval.hold(context, context.executor) { return held }
            // A child spec's stages take their own permits: its stage holds none.
            if context.stage.forEach != nil {
                return await ForEachRunner(executor: context.executor, context: context, concurrency: itemConcurrency, calls: calls).run()
            }
            return context.child != nil ? await context.executor.run(context) : await calls.run(context)
        }
    }
}
