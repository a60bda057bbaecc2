// Rules `expression-syntax`, `expression-type` and `maybe-absent`: a stage's `when:` is a
// well-typed condition over `input` and the stages, and a value that may be absent (a stage
// that may be skipped) is read with `??` saying what to use instead.
extension Compilation {
    /// Stages that may not have a value when others read them: those with `when:`.
    var skippable: Set<String> { Set(spec.stages.filter { $0.when != nil }.map(\.name.value)) }

    mutating func checkConditions() {
        let skippable = self.skippable
        for stage in spec.stages {
            guard let condition = stage.when else { continue }
            check(condition, key: "when", in: stage, skippable: skippable)
        }
        // Templates: a reference to a stage that may be skipped needs a `??` fallback.
        for stage in spec.stages {
            let templates = [setting(stage, \.system), stage.prompt].compactMap { $0 }
            for reference in templates.flatMap(\.references) + (stage.forEach.map { $0.reference.chain } ?? []) {
                requireFallback(reference, skippable: skippable, reader: "stage `\(stage.name.value)`")
            }
        }
        for reference in (spec.output?.templates ?? []).flatMap(\.references) {
            requireFallback(reference, skippable: skippable, reader: "`output`")
        }
    }

    /// Type-checks a condition, adding the DAG edges its references make.
    mutating func check(_ condition: Expression, key: String, in stage: StageSpec, skippable: Set<String>) {
        var types: [TemplateReference: ExpressionType] = [:]
        for reference in condition.references {
            let root = reference.root.value
            // `resolve` reports an unknown name or field; the checker then treats it as any type.
            guard resolve(reference, item: nil) != nil, let shape = rootShape(of: root),
                var type = ExpressionType.of(reference.path, in: shape)
            else { continue }
            if skippable.contains(root), root != stage.name.value { type = type.optional }
            types[reference] = type
            if root != "input", root != stage.name.value {
                edges.append(DAG.Edge(stage: stage.name.value, dependency: root, span: reference.root.span))
            }
        }
        let checker = ExpressionChecker { types[$0] }
        checker.checkCondition(condition, key: key, diagnostics: &diagnostics)
    }

    private mutating func requireFallback(_ reference: TemplateReference, skippable: Set<String>, reader: String) {
        let root = reference.root.value
        guard skippable.contains(root), reference.fallback == nil else { return }
        diagnostics.report(
            .maybeAbsent, at: reference.span,
            "`\(root)` may be skipped (it has `when:`), so \(reader) must say what to use without it",
            hint: "add a default: `{{ \(reference) ?? \"none\" }}`")
    }
}
