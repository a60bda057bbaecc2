// Rule `on-error-default`: the value `on_error: { default: VALUE }` gives a failed stage is one
// its downstream stages could have received from it: it matches the stage's output schema
// (for a `for_each`, a list of values that each match it).
struct OnErrorRules: Rule {
    let ids: [RuleID] = [.onErrorDefault]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for stage in resolved.stages {
            guard case .default(let value, let node) = stage.spec.onError else { continue }
            guard let schema = stage.replySchema, let validator = try? JSONSchema(compiling: schema) else { continue }
            let hint = "downstream stages read this value when the stage fails; give one its schema accepts"
            // A `for_each` stage's value is the list of its items' outputs: each item is checked.
            var values = [(value, node, "")]
            if stage.spec.forEach != nil {
                guard case .array(let items) = value, let nodes = node.sequence else {
                    diagnostics.report(
                        .onErrorDefault, at: node.span,
                        "the `on_error` default of `for_each` stage `\(stage.name)` must be a list (of its items' outputs), found \(value.typeName)",
                        hint: hint)
                    continue
                }
                values = zip(items, nodes).enumerated().map { ($1.0, $1.1, " (item \($0))") }
            }
            for (value, node, item) in values {
                for error in validator.validate(value, maxErrors: 3) {
                    let at = node.node(at: JSONPointer(error.instanceLocation) ?? JSONPointer())
                    diagnostics.report(
                        .onErrorDefault, at: at.span,
                        "the `on_error` default\(item) of stage `\(stage.name)` does not match its output schema: \(error)",
                        hint: hint)
                }
            }
        }
    }
}
