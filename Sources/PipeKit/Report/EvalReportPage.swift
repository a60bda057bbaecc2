import Foundation

/// `pipe report EVAL`: the evaluators' scoreboard (pass rate, mean score, the `min_pass_rate`
/// each had to meet), the pipeline's and the judges' tokens and cost, the failed evaluations
/// with their dataset line and reason, then the page of the batch whose items ran the pipeline
/// (`BatchReport`). At most `maxFailures` failed evaluations are listed, and the page says so.
public enum EvalReportPage {
    static let maxFailures = 200

    public static func page(_ eval: EvalRecord, results: [EvalRecord.Result], batch: BatchReportData) -> ReportPage {
        var page = BatchReport.page(batch)
        page.title = "Eval \(eval.id): \(batch.info.pipelineName)"
        let items = Set(results.map(\.item)).count
        page.subtitle = "\(items) items of \(eval.datasetPath), created \(StoreTime.text(eval.createdAt))"
            + (eval.finishedAt == nil ? ", not finished" : "")
        page.sections.insert(contentsOf: [
            MadeSection(title: "Scoreboard", anchor: "scoreboard", body: scoreboard(eval, results)),
            MadeSection(title: "Failed evaluations", anchor: "failed-evaluations", body: failures(results)),
        ], at: 0)
        return page
    }

    /// One row per evaluator, in the order they were recorded, with a bar of its pass rate.
    static func scoreboard(_ eval: EvalRecord, _ results: [EvalRecord.Result]) -> String {
        var order: [String] = []
        var byEvaluator: [String: [EvalRecord.Result]] = [:]
        for result in results {
            if byEvaluator[result.evaluator] == nil { order.append(result.evaluator) }
            byEvaluator[result.evaluator, default: []].append(result)
        }
        let minimums = minimumPassRates(eval.summary)
        let rows: [[String]] = order.map { name in
            let scored = byEvaluator[name] ?? []
            let passed = scored.filter(\.pass).count
            let rate = Double(passed) / Double(max(scored.count, 1))
            let scores = scored.compactMap(\.score)
            let mean = scores.isEmpty ? "-" : String(format: "%.2f", scores.reduce(0, +) / Double(scores.count))
            let minimum = minimums[name]
            let met = minimum.map { rate >= $0 } ?? true
            return [
                HTML.escape(name), "\(passed)/\(scored.count)",
                "<span class=\"bar\" style=\"width:\(Int(rate * 200))px;background:var(--\(met ? "ok" : "bad"))\"></span> "
                    + String(format: "%.1f%%", rate * 100),
                mean, minimum.map { String(format: "%.0f%%", $0 * 100) + (met ? "" : " <b>not met</b>") } ?? "-",
            ]
        }
        var html = ReportPage.table(["evaluator", "passed", "pass rate", "mean score", "min pass rate"], rows)
        if let summary = eval.summary {
            html += ReportPage.fields([
                ("eval", HTML.escape(eval.id)),
                ("spec", HTML.escape(eval.specPath)),
                ("test file", HTML.escape(eval.testsPath)),
                ("pipeline", usage(summary["pipeline"])),
                ("judges", usage(summary["judges"])),
            ])
        }
        return html
    }

    /// The failed evaluations, in dataset order: line, evaluator, reason and the item's run.
    static func failures(_ results: [EvalRecord.Result]) -> String {
        let failed = results.filter { !$0.pass }
        guard !failed.isEmpty else { return "<p>Every evaluation passed.</p>" }
        let rows = failed.prefix(maxFailures).map { result in
            [
                "\(result.line)", HTML.escape(result.evaluator), result.score.map { String(format: "%g", $0) } ?? "-",
                "<pre>\(HTML.escape(result.reason ?? ""))</pre>", HTML.escape(result.runID ?? "-"),
            ]
        }
        var html = ReportPage.table(["line", "evaluator", "score", "why", "run"], Array(rows))
        if failed.count > maxFailures {
            html += "<p class=\"note\">The first \(maxFailures) of \(failed.count) failed evaluations are listed.</p>"
        }
        return html
    }

    /// `min_pass_rate` of each evaluator, as the eval's scoreboard recorded it.
    static func minimumPassRates(_ summary: JSONValue?) -> [String: Double] {
        guard case .array(let evaluators)? = summary?["evaluators"] else { return [:] }
        var rates: [String: Double] = [:]
        for evaluator in evaluators {
            if case .string(let name)? = evaluator["name"], case .number(let rate)? = evaluator["min_pass_rate"] {
                rates[name] = rate.doubleValue
            }
        }
        return rates
    }

    /// "1200 in, 340 out, $0.0123" from a scoreboard's `{tokens: {input, output}, cost_usd}`.
    static func usage(_ value: JSONValue?) -> String {
        guard let value, case .number(let input)? = value["tokens"]?["input"],
            case .number(let output)? = value["tokens"]?["output"]
        else { return "-" }
        let cost: Double? = if case .number(let cost)? = value["cost_usd"] { cost.doubleValue } else { nil }
        return HTML.escape("\(input) in, \(output) out, \(ReportPage.usd(cost))")
    }
}
