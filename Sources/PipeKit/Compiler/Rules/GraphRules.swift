// Rules `unknown-need` and `cycle`: `needs` names stages, and the stages form a DAG.
extension Compilation {
    mutating func buildGraph() {
        let names = spec.stages.map(\.name.value)
        for stage in spec.stages {
            for need in stage.needs {
                guard names.contains(need.value) else {
                    diagnostics.report(
                        .unknownNeed, at: need.span, "stage `\(stage.name.value)` needs `\(need.value)`, which is not a stage",
                        hint: Suggestions.hint(for: need.value, in: names, kind: "stages"))
                    continue
                }
                edges.append(DAG.Edge(stage: stage.name.value, dependency: need.value, span: need.span))
            }
        }
        let (graph, cycles) = DAG.build(stages: names, edges: edges)
        for cycle in cycles {
            let path = cycle.path.joined(separator: " -> ")
            let message = cycle.path.count == 2
                ? "stage `\(cycle.path[0])` references itself: \(path)"
                : "the stages form a cycle: \(path)"
            diagnostics.report(
                .cycle, at: cycle.closingEdge.span, message,
                hint: "a stage can only read stages that finish before it; remove one of these references")
        }
        dag = cycles.isEmpty ? graph : nil
    }
}
