// Rule `unknown-model`: a stage's model and its fallbacks are declared under `models`.
extension Compilation {
    mutating func resolveModels() {
        let declared = spec.models.map(\.name.value)
        var resolved: [String: ResolvedModel] = [:]
        for model in spec.models {
            guard let providerName = model.provider?.value, let provider = ProviderRegistry.named(providerName) else { continue }
            resolved[model.name.value] = ResolvedModel(
                name: model.name.value, provider: provider, model: model.model?.value ?? model.name.value,
                baseURL: model.baseURL?.value, apiKeyEnv: model.apiKeyEnv?.value, price: model.price)
        }
        for stage in spec.stages {
            let name = stage.name.value
            guard let model = stage.settings.model ?? spec.defaults.model else {
                diagnostics.report(
                    .missingKey, at: stage.name.span, "stage `\(name)` has no model",
                    hint: declared.isEmpty
                        ? "declare a model under `models:` and set `model:` on the stage or in `defaults`"
                        : "set `model:` on the stage or in `defaults` (declared: \(declared.map { "`\($0)`" }.joined(separator: ", ")))")
                continue
            }
            if let found = lookup(model, declared: declared, resolved: resolved, stage: name) {
                models[name] = found
            }
            let fallbackNames = stage.settings.fallback ?? spec.defaults.fallback ?? []
            fallbacks[name] = fallbackNames.compactMap { lookup($0, declared: declared, resolved: resolved, stage: name) }
        }
    }

    /// The model a name refers to, reporting an undeclared one where the name is written.
    private mutating func lookup(
        _ name: Located<String>, declared: [String], resolved: [String: ResolvedModel], stage: String
    ) -> ResolvedModel? {
        if let model = resolved[name.value] { return model }
        // A declared model with a broken provider is reported where it is declared.
        if declared.contains(name.value) { return nil }
        // A name written in `defaults` is reported once, not for every stage.
        let inDefaults = spec.defaults.model?.span == name.span || spec.defaults.fallback?.contains { $0.span == name.span } == true
        if inDefaults && diagnostics.diagnostics.contains(where: { $0.rule == .unknownModel && $0.span == name.span }) {
            return nil
        }
        diagnostics.report(
            .unknownModel, at: name.span,
            "model `\(name.value)` is not declared under `models`" + (inDefaults ? "" : " (used by stage `\(stage)`)"),
            hint: Suggestions.hint(for: name.value, in: declared, kind: "models declared")
                ?? "declare it under `models:` with a provider and a model id")
        return nil
    }
}
