/// A family of lint rules: it reads the resolved pipeline and reports what breaks its rule
/// ids. A rule never changes the model and never reads another rule's diagnostics: each
/// runs on a sink of its own. Whatever a rule needs to know (a schema failed to load, a
/// reference names nothing) is a fact of the `ResolvedPipeline`.
protocol Rule: Sendable {
    /// The rule ids it reports.
    var ids: [RuleID] { get }
    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink)
}

/// A rule that reports the problems the resolver recorded (`ResolvedPipeline.schemaProblems`,
/// `loopProblems`): one diagnostic each, in the order found.
protocol ProblemRule: Rule {
    associatedtype Problem
    static func problems(in resolved: ResolvedPipeline) -> [Problem]
    func diagnostic(for problem: Problem, in resolved: ResolvedPipeline) -> Diagnostic
}

extension ProblemRule {
    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for problem in Self.problems(in: resolved) { diagnostics.report(diagnostic(for: problem, in: resolved)) }
    }
}

/// Every rule the compiler runs, in this order. Diagnostics are sorted by place afterwards;
/// the order decides between two at the same place.
enum RuleRegistry {
    static let rules: [any Rule] = [
        SchemaRules(), ModelRules(), BatchRules(), ReferenceRules(), ConditionRules(), AbsenceRules(), LoopRules(), GraphRules(),
        BudgetRules(), OutputRules(), MockRules(), CommandRules(), ToolRules(), OnErrorRules(), RecordRules(),
        PipelineStageRules(),
    ]

    /// Runs every rule on `resolved`, adding what they find to `diagnostics`.
    static func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for rule in rules {
            var found = DiagnosticSink()
            rule.check(resolved, into: &found)
            for diagnostic in found.diagnostics {
                assert(rule.ids.contains(diagnostic.rule), "\(type(of: rule)) reported \(diagnostic.rule), not among its ids")
                diagnostics.report(diagnostic)
            }
        }
    }
}
