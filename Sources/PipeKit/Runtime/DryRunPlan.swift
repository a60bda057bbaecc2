/// `pipe run --dry-run`: the order, the parallel steps, the models, and the worst-case
/// tokens and cost, with nothing called.
public enum DryRunPlan {
    /// `inputCharacters`: the length of the input, counted wherever a stage reads it.
    public static func render(_ pipeline: CompiledPipeline, inputCharacters: Int = 0) -> String {
        var out = "plan for \(pipeline.name): \(pipeline.stages.count) stage\(pipeline.stages.count == 1 ? "" : "s")"
        let levels = pipeline.dag.levels
        out += " in \(levels.count) step\(levels.count == 1 ? "" : "s")\n"
        for (index, level) in levels.enumerated() {
            out += "  step \(index + 1): \(level.joined(separator: ", "))\(level.count > 1 ? "  (in parallel)" : "")\n"
        }
        out += "\n"
        let (rows, _, totalCost) = table(pipeline, inputCharacters: inputCharacters)
        out += RunSummary.table(rows, numericColumns: [2, 3, 4, 5])
        // The same calls in provider batches (`pipe batch --provider-batch`): at the batch price.
        let batched = pipeline.atBatchPrices { $0.provider.hasBatchAPI }
        if totalCost != nil, pipeline.stages.flatMap(\.models).contains(where: { $0.provider.hasBatchAPI }),
            let batchCost = table(batched, inputCharacters: inputCharacters).totalCost
        {
            out += "in provider batches (pipe batch --provider-batch): worst cost \(RunSummary.usd(batchCost))\n"
        }
        var budget: [String] = []
        if let tokens = pipeline.budget.maxTokens { budget.append("max_tokens \(tokens)") }
        if let cost = pipeline.budget.maxCostUSD { budget.append("max_cost_usd \(RunSummary.usd(cost))") }
        if let duration = pipeline.budget.maxDuration { budget.append("max_duration \(DurationFormat.short(duration))") }
        out += "\nbudget: \(budget.isEmpty ? "none" : budget.joined(separator: ", "))\n"
        out += inputCharacters > 0
            ? "the input counts as \(inputCharacters) characters (about \(TokenEstimate.tokens(forCharacters: inputCharacters)) tokens) wherever a stage reads it\n"
            : "the input is not counted (give it with --input to include it)\n"
        if totalCost == nil { out += "cost: some models have no `price`, so the worst cost is unknown\n" }
        for loop in pipeline.loops {
            out += "loop: \(loop.members.joined(separator: ", ")) run at most \(loop.maxIterations) times"
                + (loop.until.map { ", until \($0)" } ?? "") + "\n"
        }
        for stage in pipeline.stages where !stage.kind.tools.isEmpty {
            out += "tools: \(stage.name) offers \(stage.kind.tools.map(\.description).joined(separator: ", ")), "
                + "counted at \(stage.kind.turns) turns an attempt, each adding a result of max_result_chars per tool\n"
        }
        let unbounded = pipeline.stages.filter { $0.forEach != nil && $0.maxRuns == 1 }.map(\.name)
        if !unbounded.isEmpty {
            out += "for_each: \(unbounded.joined(separator: ", ")) counted once: their lists have no maxItems\n"
        }
        return out
    }

    /// The worst case of a whole pipeline (a `pipeline:` stage's child): its tokens, and its
    /// cost when every model is priced. Its input is not counted: it is what its parent's
    /// stage renders, counted there.
    static func worstCase(_ pipeline: CompiledPipeline) -> (tokens: Int, costUSD: Double?) {
        let table = table(pipeline, inputCharacters: 0)
        return (table.totalTokens, table.totalCost)
    }

    /// The most a pipeline's output can hold, in tokens: what all its stages may write.
    static func outputTokens(of pipeline: CompiledPipeline) -> Int {
        pipeline.stages.reduce(0) { $0 + maxOutputTokens($1) * $1.maxRuns }
    }

    /// The rows of the plan's table (a stage each, then the total), and the worst totals.
    private static func table(_ pipeline: CompiledPipeline, inputCharacters: Int) -> (rows: [[String]], totalTokens: Int, totalCost: Double?) {
        var rows: [[String]] = [["stage", "model", "max_tokens", "attempts", "worst tokens", "worst cost"]]
        var totalTokens = 0
        var totalCost: Double? = 0
        let maxTokens = Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, maxOutputTokens($0)) })
        for stage in pipeline.stages {
            let prompt = WorstCase.promptTokens(
                stage.templates, outputSchema: stage.outputSchema, inputCharacters: inputCharacters
            ) { maxTokens[$0] }
            var worst: (tokens: Int, costUSD: Double?)
            let row: [String]
            switch stage.kind {
            case .model(let model):
                worst = WorstCase.stage(
                    promptTokens: prompt, maxTokens: model.maxTokens, retries: model.retries, maxTurns: stage.kind.turns,
                    resultTokensPerTurn: WorstCase.resultTokensPerTurn(model.tools, servers: pipeline.toolServers), models: stage.models)
                let modelText = stage.models.map { "\($0.name) (\($0.provider.name) \($0.model))" }.joined(separator: ", then ")
                row = [stage.name, modelText, String(model.maxTokens), String(model.maxAttempts)]
            case .command(let command):
                // A program: no tokens, no cost.
                worst = (0, 0)
                row = [stage.name, "command: \(command.program)", "-", String(command.maxAttempts)]
            case .pipeline(let child):
                // Every stage of the child, at its worst.
                worst = worstCase(child.child)
                row = [stage.name, "pipeline: \(child.path) (\(child.child.stages.count) stages)", "-", "-"]
            }
            worst.tokens *= stage.maxRuns
            worst.costUSD = worst.costUSD.map { $0 * Double(stage.maxRuns) }
            totalTokens += worst.tokens
            totalCost = worst.costUSD.flatMap { cost in totalCost.map { $0 + cost } }
            rows.append(row + [String(worst.tokens), worst.costUSD.map(RunSummary.usd) ?? "-"])
        }
        rows.append(["total", "", "", "", String(totalTokens), totalCost.map(RunSummary.usd) ?? "-"])
        return (rows, totalTokens, totalCost)
    }

    /// The most a stage's value can hold, in tokens, for the stages that read it.
    private static func maxOutputTokens(_ stage: CompiledStage) -> Int {
        switch stage.kind {
        case .model(let model): model.maxTokens
        // What a command writes is not counted where it is read (it is not tokens).
        case .command: 0
        case .pipeline(let child): outputTokens(of: child.child)
        }
    }
}
