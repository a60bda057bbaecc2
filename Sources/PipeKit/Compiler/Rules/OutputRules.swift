// Rule `unused-stage`: every stage contributes to the pipeline's output, directly or
// through a stage that does.
struct OutputRules: Rule {
    let ids: [RuleID] = [.unusedStage]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        guard let dag = resolved.dag, resolved.spec.output != nil else { return }
        // A reference that names no stage would make the stage it meant look unused.
        if resolved.allReferences.contains(where: { if case .unknownRoot = $0.resolution { true } else { false } }) { return }
        var used = Set<String>()
        for reference in resolved.outputReferences.map(\.reference) where reference.root.value != "input" {
            guard resolved.stage(named: reference.root.value) != nil else { continue }
            used.insert(reference.root.value)
            used.formUnion(dag.ancestors(of: reference.root.value))
        }
        for stage in resolved.stages where !used.contains(stage.name) {
            diagnostics.report(
                .unusedStage, at: stage.spec.name.span,
                "stage `\(stage.name)` contributes nothing to `output`; it would run and cost tokens for nothing",
                hint: "reference it from `output` (e.g. `\(stage.name): \"{{ \(stage.name) }}\"`), or remove it")
        }
    }
}
