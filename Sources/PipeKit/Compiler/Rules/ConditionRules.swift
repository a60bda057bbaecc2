// Rule `expression-type`: a stage's `when:` and a loop's `until:` are well-typed conditions
// over `input` and the stages. A stage that may be skipped (it has `when:`) may be absent
// to the others.
struct ConditionRules: Rule {
    let ids: [RuleID] = [.expressionType]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let skippable = resolved.skippable
        for condition in resolved.conditions {
            var types: [TemplateReference: ExpressionType] = [:]
            // A reference that does not resolve is reported by `ReferenceRules`; the checker
            // then takes it as any type.
            for reference in condition.references {
                guard let reached = reference.reached else { continue }
                var type = ExpressionType(shape: reached.shape, mayBeAbsent: reached.mayBeAbsent)
                if skippable.contains(reference.root), reference.root != condition.stage { type = type.optional }
                types[reference.reference] = type
            }
            let checker = ExpressionChecker { types[$0] }
            checker.checkCondition(condition.expression, key: condition.key, diagnostics: &diagnostics)
        }
    }
}
