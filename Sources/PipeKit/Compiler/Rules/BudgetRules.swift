// Rules `stage-budget` and `worst-case-budget`: no stage can exceed the run's token budget
// alone, and the worst case of the whole run fits it (a warning: the runner stops at the
// budget with exit 4 before the call that would pass it).
struct BudgetRules: Rule {
    let ids: [RuleID] = [.stageBudget, .worstCaseBudget]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let budget = resolved.spec.budget
        var worstTokens = 0
        var worstCost = 0.0
        var everyPriceKnown = true
        // A command stage spends no tokens; what it writes is not counted where it is read.
        for stage in resolved.stages where stage.spec.command == nil {
            // A pipeline stage spends what its child may spend, each time it runs.
            if let child = stage.child {
                let worst = DryRunPlan.worstCase(child.pipeline)
                worstTokens += worst.tokens * stage.maxRuns
                if let cost = worst.costUSD { worstCost += cost * Double(stage.maxRuns) } else { everyPriceKnown = false }
                continue
            }
            guard stage.spec.pipeline == nil else { continue }
            let output = stage.maxTokensValue
            if let limit = budget.maxTokens, output > limit.value {
                diagnostics.report(
                    .stageBudget, at: stage.maxTokens?.span ?? stage.spec.name.span,
                    "stage `\(stage.name)` may write \(output) tokens, more than the run's budget.max_tokens (\(limit.value))",
                    hint: "lower this max_tokens or raise budget.max_tokens",
                    related: [RelatedLocation(limit.span, "the run's budget")])
            }
            guard let model = stage.model?.model else { continue }
            let prompt = WorstCase.promptTokens(stage.templates, outputSchema: stage.output.schema) {
                resolved.stage(named: $0).map { reader in
                    reader.child.map { DryRunPlan.outputTokens(of: $0.pipeline) } ?? (reader.spec.callsModel ? reader.maxTokensValue : 0)
                }
            }
            let worst = WorstCase.stage(
                promptTokens: prompt, maxTokens: output, retries: stage.retriesValue, maxTurns: stage.turns,
                resultTokensPerTurn: WorstCase.resultTokensPerTurn(
                    stage.toolReferences, servers: resolved.spec.tools.compactMap(Compiler.declaration)),
                models: [model] + stage.fallbacks.compactMap(\.model))
            worstTokens += worst.tokens * stage.maxRuns
            if let cost = worst.costUSD { worstCost += cost * Double(stage.maxRuns) } else { everyPriceKnown = false }
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
}
