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
            let prompt = promptEstimate(stage)
            let retries = setting(stage, \.retries)?.value ?? BuiltinDefaults.retries
            var stageModels: [ResolvedModel?] = [models[stage.name.value]]
            stageModels += (fallbacks[stage.name.value] ?? []).map { Optional($0) }
            for model in stageModels {
                worstTokens += (1 + retries) * (prompt + output)
                if let price = model?.price {
                    worstCost += Double(1 + retries) * (Double(prompt) * price.input + Double(output) * price.output) / 1_000_000
                } else {
                    everyPriceKnown = false
                }
            }
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
                "in the worst case the run costs about $\(formatUSD(worstCost)), more than budget.max_cost_usd ($\(formatUSD(limit.value)))",
                hint: "the run stops with exit 4 before a call that would pass the budget; lower max_tokens or retries, or raise the budget")
        }
    }

    /// Input tokens of one call, at most: the template's text plus, for each stage it reads,
    /// that stage's max_tokens (a value never exceeds what its stage may write). The input is
    /// not known at lint time and is not counted.
    func promptEstimate(_ stage: StageSpec) -> Int {
        let templates = [setting(stage, \.system), stage.prompt].compactMap { $0 }
        var characters = 0
        var tokens = 0
        for template in templates {
            for part in template.parts {
                switch part {
                case .text(let text): characters += text.utf8.count
                case .reference(let reference):
                    if let read = spec.stage(named: reference.root.value) {
                        tokens += setting(read, \.maxTokens)?.value ?? BuiltinDefaults.maxTokens
                    }
                }
            }
        }
        return tokens + TokenEstimate.tokens(forCharacters: characters)
    }

    private func formatUSD(_ value: Double) -> String {
        let cents = (value * 100).rounded() / 100
        return cents == cents.rounded() ? String(Int(cents)) + ".00" : String(format: "%.2f", cents)
    }
}

/// A rough, conservative token count for text whose tokenizer we do not run.
public enum TokenEstimate {
    /// About 4 characters per token for English prose; rounded up.
    public static func tokens(forCharacters characters: Int) -> Int { (characters + 3) / 4 }
    public static func tokens(for text: String) -> Int { tokens(forCharacters: text.utf8.count) }
}
