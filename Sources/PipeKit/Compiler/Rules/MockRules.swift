// Rule `mock-value`: a stage's `mock:` values are what its model could validly answer (its
// scripted tool calls aside).
struct MockRules: Rule {
    let ids: [RuleID] = [.mockValue]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for stage in resolved.stages where !stage.spec.mock.isEmpty {
            guard let schema = stage.replySchema, let validator = try? JSONSchema(compiling: schema) else { continue }
            // A scripted tool call (`tool-*` rules check it) is no value.
            for (value, node) in stage.spec.mock where MockToolCall(value) == nil {
                for error in validator.validate(value, maxErrors: 3) {
                    let at = node.node(at: JSONPointer(error.instanceLocation) ?? JSONPointer())
                    diagnostics.report(
                        .mockValue, at: at.span, "this `mock:` value of stage `\(stage.name)` does not match its output schema: \(error)",
                        hint: "the mock provider gives these values in turn; each must be a valid reply")
                }
            }
        }
    }
}
