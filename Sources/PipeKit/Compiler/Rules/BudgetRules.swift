// Rules `stage-budget` and `worst-case-budget`: no stage can exceed the run's token budget
// alone, and the worst case of the whole run fits it (a warning: the runner stops at the
// budget with exit 4 before the call that would pass it).
extension Compilation {
    mutating func checkBudgets() {
        let budget = spec.budget
        var worstTokens = 0
        var worstCost = 0.0
        var everyPriceKnown = true
        for stage in spec.stages {
            let maxTokens = setting(stage, \.maxTokens)
            let output = maxTokens?.value ?? BuiltinDefaults.maxTokens
            if let limit = budget.maxTokens, output > limit.value {
                diagnostics.report(
                    .stageBudget, at: maxTokens?.span ?? stage.name.span,
                    "stage `\(stage.name.value)` may write \(output) tokens, more than the run's budget.max_tokens (\(limit.value))",
                    hint: "lower this max_tokens or raise budget.max_tokens",
                    related: [RelatedLocation(limit.span, "the run's budget")])
            }
            guard let model = models[stage.name.value] else { continue }
            let prompt = WorstCase.promptTokens(
                [setting(stage, \.system), stage.prompt].compactMap { $0 }, outputSchema: outputSchemas[stage.name.value]
            ) { name in
                stages[name].map { setting($0, \.maxTokens)?.value ?? BuiltinDefaults.maxTokens }
            }
            let worst = WorstCase.stage(
                promptTokens: prompt, maxTokens: output, retries: setting(stage, \.retries)?.value ?? BuiltinDefaults.retries,
                models: [model] + (fallbacks[stage.name.value] ?? []))
            let iterations = maxRuns(of: stage)
            worstTokens += worst.tokens * iterations
            if let cost = worst.costUSD { worstCost += cost * Double(iterations) } else { everyPriceKnown = false }
        }
        if let limit = budget.maxTokens, worstTokens > limit.value {
            diagnostics.report(
                .worstCaseBudget, at: limit.span,
                "in the worst case (every call at max_tokens, every retry and fallback used) the run needs about \(worstTokens) tokens, more than budget.max_tokens (\(limit.value))",
                hint: "the run stops with exit 4 before a call that would pass the budget; lower max_tokens or retries, or raise the budget")
        }
        if let limit = budget.maxCostUSD, everyPriceKnown, worstCost > limit.value {
            diagnostics.report(
                .worstCaseBudget, at: limit.span,
                "in the worst case the run costs about \(RunSummary.usd(worstCost)), more than budget.max_cost_usd (\(RunSummary.usd(limit.value)))",
                hint: "the run stops with exit 4 before a call that would pass the budget; lower max_tokens or retries, or raise the budget")
        }
    }

    /// How many times a stage may run: `max_iterations` times in a loop, once per item of a
    /// fan-out (as many as its list's `maxItems`, when the schema bounds it).
    func maxRuns(of stage: StageSpec) -> Int {
        var runs = loops.first { $0.members.contains(stage.name.value) }?.maxIterations ?? 1
        if let forEach = stage.forEach, let items = maxItems(of: forEach.reference) { runs *= items }
        return runs
    }

    /// The most items the list a reference names can have, when its schema says (`maxItems`).
    private func maxItems(of reference: TemplateReference) -> Int? {
        guard let shape = rootShape(of: reference.root.value)?.follow(reference.path) else { return nil }
        let bounds = shape.schemas.map { $0.objectValue?["maxItems"]?.numberValue?.intValue }
        guard !bounds.isEmpty, !bounds.contains(where: { $0 == nil }) else { return nil }
        return bounds.compactMap { $0 }.max()
    }
}
