// Rules `unknown-need` and `cycle`: `needs` names stages, and the stages form a DAG.
struct GraphRules: Rule {
    let ids: [RuleID] = [.unknownNeed, .cycle]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for (stage, need) in resolved.unknownNeeds {
            diagnostics.report(
                .unknownNeed, at: need.span, "stage `\(stage)` needs `\(need.value)`, which is not a stage",
                hint: Suggestions.hint(for: need.value, in: resolved.stageNames, kind: "stages"))
        }
        for cycle in resolved.cycles {
            let path = cycle.path.joined(separator: " -> ")
            let message = cycle.path.count == 2
                ? "stage `\(cycle.path[0])` references itself: \(path)"
                : "the stages form a cycle: \(path)"
            diagnostics.report(
                .cycle, at: cycle.closingEdge.span, message,
                hint: "a stage can only read stages that finish before it; remove one of these references")
        }
    }
}
