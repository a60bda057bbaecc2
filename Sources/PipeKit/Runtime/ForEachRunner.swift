/// Runs a `for_each` stage: once per item of its list, up to the stage's `concurrency` items
/// at once (each also waiting for one of the run's `calls`), each with the stage's retries
/// and fallbacks. The stage's value is the list of the items' outputs, in item order; an
/// item whose attempts are spent fails the stage, or with `on_item_error: skip` is dropped
/// and the reason recorded.
struct ForEachRunner: Sendable {
    /// The stage as a whole; each item runs a copy labelled `stage[i]`.
    let template: StageRunner
    /// The run's concurrency, used when the stage sets none.
    let concurrency: Int
    /// The run-wide bound on calls, which every item waits for.
    let calls: CallLimiter

    func run() async -> (StageRunner.Outcome, StageReport) {
        let stage = template.stage
        let start = ContinuousClock.now
        guard let forEach = stage.forEach else { return await template.run() }
        template.events(.stageStarted(stage: stage.name))
        var report = StageReport.empty(stage.name, .succeeded, model: stage.model)
        guard case .array(let items) = template.renderer.value(of: forEach.reference) ?? .null else {
            let found = template.renderer.value(of: forEach.reference)?.typeName ?? "nothing"
            return await finish(.failed("`for_each: \(forEach.reference)` needs a list, but the value is \(found)"), report, start)
        }
        let limit = max(1, forEach.concurrency?.value ?? concurrency)
        var outputs = [JSONValue?](repeating: nil, count: items.count)
        var skipped: [String] = []
        var reused = 0
        var failure: StageRunner.Outcome?
        await withTaskGroup(of: (Int, StageRunner.Outcome, StageReport).self) { group in
            var next = 0
            var running = 0
            while true {
                while failure == nil, running < limit, next < items.count, !Task.isCancelled {
                    let index = next
                    let runner = template.item(index, items[index], named: forEach.itemName.value)
                    group.addTask {
                        let (outcome, report) = await calls.withPermit { await runner.run() }
                        return (index, outcome, report)
                    }
                    next += 1
                    running += 1
                }
                guard let (index, outcome, item) = await group.next() else { break }
                running -= 1
                template.events(.stageFinished(item))
                if item.status == .reused { reused += 1 }
                report.attempts += item.attempts
                report.usage = report.usage + item.usage
                if let cost = item.costUSD { report.costUSD = (report.costUSD ?? 0) + cost }
                report.model = item.model
                switch outcome {
                case .value(let value):
                    outputs[index] = value
                case .failed(let message) where forEach.onItemError.value == .skip:
                    skipped.append("item \(index): \(message)")
                case .cancelled:
                    if failure == nil { failure = .cancelled }
                case .budgetExceeded:
                    // No more items; the ones in flight finish, since their calls are billed
                    // (the ledger refuses every call after the stop).
                    if failure == nil { failure = outcome }
                default:
                    if failure == nil {
                        failure = outcome
                        group.cancelAll()
                    }
                }
            }
        }
        if !skipped.isEmpty { report.error = "skipped \(skipped.count) item\(skipped.count == 1 ? "" : "s"): " + skipped.joined(separator: "; ") }
        if let failure {
            if case .failed(let message) = failure { return await finish(.failed("an item failed: \(message)"), report, start) }
            return await finish(failure, report, start)
        }
        if reused == items.count, !items.isEmpty { report.status = .reused }
        return await finish(.value(.array(outputs.compactMap { $0 })), report, start)
    }

    private func finish(_ outcome: StageRunner.Outcome, _ report: StageReport, _ start: ContinuousClock.Instant) async
        -> (StageRunner.Outcome, StageReport)
    {
        var report = report
        report.latency = ContinuousClock.now - start
        report.status = outcome.status(reused: report.status == .reused)
        if let failure = outcome.failure { report.error = failure }
        if let journal = template.journal {
            var output: JSONValue?
            if case .value(let value) = outcome { output = value }
            // The whole stage, for `pipe logs`; a resumed run reuses the items one by one.
            await journal.record(StageRecord(report: report, output: output, fingerprint: nil))
        }
        return (outcome, report)
    }
}

extension StageRunner {
    /// This stage's run for one item: labelled `stage[i]`, with the item in its templates.
    func item(_ index: Int, _ value: JSONValue, named name: String) -> StageRunner {
        var values = renderer.values
        values[name] = value
        return StageRunner(
            stage: stage, label: StageLabel.item(label, index), validator: validator, renderer: TemplateRenderer(values: values),
            ledger: ledger, resolveProvider: resolveProvider, retryPolicy: retryPolicy, deadline: deadline, journal: journal,
            cache: cache, events: events)
    }
}
