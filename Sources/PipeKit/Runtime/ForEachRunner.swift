/// Runs a `for_each` stage: once per item of its list, up to the stage's `concurrency` items
/// at once (each also waiting for one of the run's `calls`), each with the stage's retries
/// and fallbacks. The stage's value is the list of the items' outputs, in item order; an
/// item whose attempts are spent fails the stage, or with `on_item_error: skip` is dropped
/// and the reason recorded.
struct ForEachRunner: Sendable {
    /// What runs each item.
    let executor: any StageExecutor
    /// The stage as a whole; each item runs in a copy for the unit `stage[i]`.
    let context: StageContext
    /// The run's concurrency, used when the stage sets none.
    let concurrency: Int
    /// The run-wide bound on calls, which every item waits for.
    let calls: CallLimiter

    func run() async -> (StageOutcome, StageReport) {
        let stage = context.stage
        let start = ContinuousClock.now
        guard let forEach = stage.forEach else { return await executor.run(context) }
        // The stage as a whole is named by its name alone, even in a loop's iteration.
        let whole = RunUnitID(stage: context.unit.stage)
        context.events(.stageStarted(unit: whole))
        var report = StageReport.empty(whole, .succeeded, stage: stage)
        guard case .array(let items) = context.renderer.value(of: forEach.reference) ?? .null else {
            let found = context.renderer.value(of: forEach.reference)?.typeName ?? "nothing"
            return await finish(.failed(.notAList(forEach.reference, found: found)), report, start)
        }
        let limit = max(1, forEach.concurrency?.value ?? concurrency)
        var outputs = [JSONValue?](repeating: nil, count: items.count)
        var skipped: [String] = []
        var reused = 0
        var failure: StageOutcome?
        await withTaskGroup(of: (Int, StageOutcome, StageReport).self) { group in
            var next = 0
            var running = 0
            while true {
                while failure == nil, running < limit, next < items.count, !Task.isCancelled {
                    let index = next
                    let item = context.item(index, items[index], named: forEach.itemName.value)
                    group.addTask {
                        // A child spec's stages take their own permits: its item holds none.
                        let (outcome, report) = item.child != nil
                            ? await executor.run(item) : await calls.run(item)
                        return (index, outcome, report)
                    }
                    next += 1
                    running += 1
                }
                guard let (index, outcome, item) = await group.next() else { break }
                running -= 1
                context.events(.stageFinished(item))
                if item.status == .reused { reused += 1 }
                report.attempts += item.attempts
                report.usage = report.usage + item.usage
                if let cost = item.costUSD { report.costUSD = (report.costUSD ?? 0) + cost }
                report.model = item.model
                switch outcome {
                case .value(let value):
                    outputs[index] = value
                case .failed(let failure) where !failure.isBudget && forEach.onItemError.value == .skip:
                    skipped.append("item \(index): \(failure)")
                case .cancelled:
                    if failure == nil { failure = .cancelled }
                case .failed(let budget) where budget.isBudget:
                    // No more items; the ones in flight finish, since their calls are billed
                    // (the ledger refuses every call after the stop).
                    if failure == nil { failure = outcome }
                case .failed, .waiting, .skipped:
                    if failure == nil {
                        failure = outcome
                        group.cancelAll()
                    }
                }
            }
        }
        if !skipped.isEmpty { report.error = "skipped \(skipped.count) item\(skipped.count == 1 ? "" : "s"): " + skipped.joined(separator: "; ") }
        if let failure {
            if case .failed(let item) = failure, !item.isBudget { return await finish(.failed(.itemFailed(item)), report, start) }
            return await finish(failure, report, start)
        }
        if reused == items.count, !items.isEmpty { report.status = .reused }
        return await finish(.value(.array(outputs.compactMap { $0 })), report, start)
    }

    private func finish(_ outcome: StageOutcome, _ report: StageReport, _ start: ContinuousClock.Instant) async
        -> (StageOutcome, StageReport)
    {
        var report = report
        report.latency = ContinuousClock.now - start
        report.status = outcome.status(reused: report.status == .reused)
        if let failure = outcome.failure { report.error = failure.description }
        // `on_error` is the stage's, after its items' `on_item_error`.
        let (outcome, degraded) = context.stage.degraded(outcome, report)
        report = degraded
        if let journal = context.journal {
            var output: JSONValue?
            if case .value(let value) = outcome { output = value }
            // The whole stage, for `pipe logs`; a resumed run reuses the items one by one.
            await journal.record(StageRecord(report: report, output: output, fingerprint: nil))
        }
        return (outcome, report)
    }
}
