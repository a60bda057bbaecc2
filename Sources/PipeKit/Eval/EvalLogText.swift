extension RunLogText {
    /// The evals as `pipe logs` lists them after the batches: each evaluator's pass rate.
    public func evals(_ evals: [EvalRecord]) -> String {
        var table: [[String]] = [["eval", "spec", "dataset", "started", "items", "pass rates"]]
        for eval in evals {
            let summary = eval.summary
            let rates = summary?["evaluators"]?.arrayValue?.compactMap { row -> String? in
                guard let name = row["name"]?.stringValue, let rate = row["pass_rate"]?.numberValue?.doubleValue else { return nil }
                return "\(name) \(EvalScoreboard.percent(rate))"
            }
            table.append([
                eval.id, spec(eval.specPath), spec(eval.datasetPath), time(eval.createdAt),
                summary?["items"]?.numberValue.map { "\($0)" } ?? "-",
                rates.map { $0.joined(separator: ", ") } ?? "unfinished (pipe eval --resume \(eval.id))",
            ])
        }
        return RunSummary.table(table, numericColumns: [4])
    }
}
