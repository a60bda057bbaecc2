/// Runs a loop: its stages again and again, each iteration reading the previous one's
/// values (absent in the first), until `until` holds after an iteration or `max_iterations`
/// have run. The stages after the loop see the last iteration's values. Every iteration's
/// calls are recorded and traced, its stages as the units `writer@2`, `critic@2`.
struct LoopRunner: Sendable {
    let loop: CompiledLoop
    /// Runs one iteration: the loop's stages, wired to each other.
    let iteration: PipelineRunner

    func run(
        values outer: [String: JSONValue], ledger: BudgetLedger, calls: CallLimiter, deadline: ContinuousClock.Instant?,
        events: @escaping @Sendable (RunEvent) -> Void
    ) async -> PipelineRunner.Ended {
        var values = outer
        var totals: [String: StageReport] = [:]
        var stop: PipelineRunner.Result.Outcome?
        // Inside a child spec, units are named under the parent stage (`team/writer@2`).
        let prefix = iteration.options.unitPrefix
        for number in 1...loop.maxIterations {
            let result = await iteration.schedule(
                seed: values, ledger: ledger, calls: calls, deadline: deadline, iteration: number, watchdog: false,
                events: events)
            for report in result.reports {
                let name = report.unit.stage
                totals[name] = Self.add(report, to: totals[name], name: name)
            }
            values.merge(result.values) { _, new in new }
            if let outcome = result.outcome {
                stop = outcome
                break
            }
            guard result.complete, !Task.isCancelled else {
                stop = .interrupted
                break
            }
            if let until = loop.until {
                let renderer = TemplateRenderer(values: values)
                if ExpressionEvaluator.holds(until, value: { renderer.value(of: $0) }) { break }
            }
        }
        return loop.members.map { name in
            let report = totals[prefix + name] ?? .empty(RunUnitID(stage: prefix + name), .cancelled, stage: iteration.pipeline.stage(named: name)!)
            return (name, outcome(of: name, unit: prefix + name, report: report, stop: stop, value: values[name]), report)
        }
    }

    /// What the loop's stop means for one of its stages.
    private func outcome(
        of name: String, unit: String, report: StageReport, stop: PipelineRunner.Result.Outcome?, value: JSONValue?
    ) -> StageOutcome {
        switch stop {
        case nil:
            return value.map(StageOutcome.value) ?? .skipped
        case .stageFailed(let failed, _, let failure) where failed.stage == unit:
            return .failed(failure)
        case .budgetExceeded(let failed, let failure) where failed.map { $0.stage == unit } ?? (name == loop.members.first):
            return .failed(failure)
        case .waitingForApproval(let pending):
            if let mine = pending.first(where: { $0.stage == name }) { return .waiting(mine) }
            return .cancelled
        default:
            return .cancelled
        }
    }

    /// A stage's report over the iterations: the totals, and the last iteration's status.
    static func add(_ report: StageReport, to total: StageReport?, name: String) -> StageReport {
        guard var total else {
            var first = report
            first.unit = RunUnitID(stage: name)
            return first
        }
        total.status = report.status
        total.model = report.model
        total.attempts += report.attempts
        total.usage = total.usage + report.usage
        if let cost = report.costUSD { total.costUSD = (total.costUSD ?? 0) + cost }
        total.latency += report.latency
        total.error = report.error
        return total
    }
}
