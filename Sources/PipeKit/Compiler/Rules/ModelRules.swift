// Rule `unknown-model` (and `missing-key` for a stage without a model): a stage's model and
// its fallbacks are declared under `models`.
struct ModelRules: Rule {
    let ids: [RuleID] = [.missingKey, .unknownModel]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let spec = resolved.spec
        let declared = spec.models.map(\.name.value)
        // A name written in `defaults` is reported once, not for every stage.
        var reportedInDefaults = Set<Span>()
        func reportUndeclared(_ lookup: ModelLookup, stage: String) {
            // A declared model with a broken provider is reported where it is declared.
            guard case .undeclared(let name) = lookup else { return }
            let inDefaults = spec.defaults.model?.span == name.span
                || spec.defaults.fallback?.contains { $0.span == name.span } == true
            if inDefaults && !reportedInDefaults.insert(name.span).inserted { return }
            diagnostics.report(
                .unknownModel, at: name.span,
                "model `\(name.value)` is not declared under `models`" + (inDefaults ? "" : " (used by stage `\(stage)`)"),
                hint: Suggestions.hint(for: name.value, in: declared, kind: "models declared")
                    ?? "declare it under `models:` with a provider and a model id")
        }
        // A command stage (`run:`) and a pipeline stage (`pipeline:`) call no model of their own.
        for stage in resolved.stages where stage.spec.callsModel {
            guard let model = stage.model else {
                diagnostics.report(
                    .missingKey, at: stage.spec.name.span, "stage `\(stage.name)` has no model",
                    hint: declared.isEmpty
                        ? "declare a model under `models:` and set `model:` on the stage or in `defaults`"
                        : "set `model:` on the stage or in `defaults` (declared: \(declared.map { "`\($0)`" }.joined(separator: ", ")))")
                continue
            }
            reportUndeclared(model, stage: stage.name)
            for fallback in stage.fallbacks { reportUndeclared(fallback, stage: stage.name) }
        }
    }
}
