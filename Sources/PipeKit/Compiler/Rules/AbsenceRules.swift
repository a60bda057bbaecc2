// Rule `maybe-absent`: a value that may be absent is read with `??` saying what to use
// instead: a stage that may be skipped (it has `when:`, or `on_error: skip`), and, inside a loop, the previous
// iteration (of the stage itself or of the loop's last stage), which the first iteration
// does not have.
struct AbsenceRules: Rule {
    let ids: [RuleID] = [.maybeAbsent]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let skippable = Dictionary(
            resolved.stages.compactMap { stage in stage.skipReason.map { (stage.name, $0) } }, uniquingKeysWith: { first, _ in first })
        func requireFallback(_ reference: TemplateReference, reader: String) {
            let root = reference.root.value
            guard let reason = skippable[root], reference.fallback == nil else { return }
            diagnostics.report(
                .maybeAbsent, at: reference.span,
                "`\(root)` may be skipped (\(reason)), so \(reader) must say what to use without it",
                hint: "add a default: `{{ \(reference) ?? \"none\" }}`")
        }
        if !skippable.isEmpty {
            for stage in resolved.stages {
                for reference in stage.references { requireFallback(reference.reference, reader: "stage `\(stage.name)`") }
                for reference in stage.spec.forEach?.reference.chain ?? [] {
                    requireFallback(reference, reader: "stage `\(stage.name)`")
                }
            }
            for reference in resolved.outputReferences {
                requireFallback(reference.reference, reader: "`output`")
            }
        }
        // The previous iteration.
        for stage in resolved.stages {
            guard let loop = resolved.loop(of: stage.name)?.end else { continue }
            for reference in stage.references.map(\.reference) where reference.fallback == nil {
                let root = reference.root.value
                guard root == stage.name || root == loop else { continue }
                diagnostics.report(
                    .maybeAbsent, at: reference.span,
                    "`\(root)` is read from the previous iteration of the loop, which the first iteration does not have",
                    hint: "add a default: `{{ \(reference) ?? \"none\" }}`")
            }
        }
    }
}
