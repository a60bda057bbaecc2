// Rule `unused-stage`: every stage contributes to the pipeline's output, directly or
// through a stage that does.
extension Compilation {
    mutating func checkOutputUse() {
        guard let dag, let output = spec.output else { return }
        // A reference that names no stage would make the stage it meant look unused.
        if diagnostics.diagnostics.contains(where: { $0.rule == .unknownReference }) { return }
        var used = Set<String>()
        for reference in output.templates.flatMap(\.references) where reference.root.value != "input" {
            guard spec.stage(named: reference.root.value) != nil else { continue }
            used.insert(reference.root.value)
            used.formUnion(dag.ancestors(of: reference.root.value))
        }
        for stage in spec.stages where !used.contains(stage.name.value) {
            diagnostics.report(
                .unusedStage, at: stage.name.span,
                "stage `\(stage.name.value)` contributes nothing to `output`; it would run and cost tokens for nothing",
                hint: "reference it from `output` (e.g. `\(stage.name.value): \"{{ \(stage.name.value) }}\"`), or remove it")
        }
    }
}
