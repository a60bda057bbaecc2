// Rule `invalid-value` for `batch: true`: the model's provider has a batch API
// (`Provider.API.batch`), else its calls could never go into provider batches.
struct BatchRules: Rule {
    let ids: [RuleID] = [.invalidValue]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for model in resolved.spec.models {
            guard let batch = model.batch, batch.value, let name = model.provider?.value,
                let provider = ProviderRegistry.named(name), !provider.hasBatchAPI
            else { continue }
            let others = ProviderRegistry.all.filter(\.hasBatchAPI).map { "`\($0.name)`" }.joined(separator: " and ")
            diagnostics.report(
                .invalidValue, at: batch.span, "model `\(model.name.value)`: provider `\(name)` has no batch API",
                hint: "remove `batch: true` (only \(others) have one); `pipe batch --provider-batch` leaves such models in real time")
        }
    }
}
