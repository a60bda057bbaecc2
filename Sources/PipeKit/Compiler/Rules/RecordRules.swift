// Rule `cache-hashed-outputs`: under `record: { outputs: hash }` no reply or stage value is kept
// as text, so `--cache` and `cache: true` have nothing to answer from: the setting is a warning
// where it is written (once a place, though `defaults` applies to every stage).
struct RecordRules: Rule {
    let ids: [RuleID] = [.cacheHashedOutputs]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        guard let outputs = resolved.spec.record?.outputs, outputs.value == .hash else { return }
        var warned: Set<Span> = []
        for stage in resolved.stages {
            guard let cache = stage.cache, cache.value, warned.insert(cache.span).inserted else { continue }
            let whose = cache.span == resolved.spec.defaults.cache?.span ? "the stages are" : "stage `\(stage.name)` is"
            diagnostics.report(
                .cacheHashedOutputs, at: cache.span,
                "`cache: true` does nothing: `record.outputs: hash` (line \(outputs.span.start.line)) keeps no reply or value to reuse, so \(whose) called every run",
                hint: "remove `cache: true`, or record outputs in full (`record: { outputs: full }`) and keep only prompts hashed")
        }
    }
}
