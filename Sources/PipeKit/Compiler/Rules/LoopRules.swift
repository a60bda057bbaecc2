// Rule `invalid-loop`: a `loop:` names a stage upstream of it, and loops do not overlap.
// (The loop's back references are the only cycles the compiler accepts: `max_iterations`
// bounds them. Reading the previous iteration is checked by `AbsenceRules`, `until` by
// `ConditionRules`.)
struct LoopRules: ProblemRule {
    let ids: [RuleID] = [.invalidLoop]

    static func problems(in resolved: ResolvedPipeline) -> [LoopProblem] { resolved.loopProblems }

    func diagnostic(for problem: LoopProblem, in resolved: ResolvedPipeline) -> Diagnostic {
        switch problem {
        case .unknownFrom(let from):
            Diagnostic(.invalidLoop, at: from.span, "`from: \(from.value)` is not a stage",
                hint: Suggestions.hint(for: from.value, in: resolved.stageNames, kind: "stages"))
        case .notUpstream(let end, let from):
            Diagnostic(.invalidLoop, at: from.span, "the loop of `\(end)` starts at `\(from.value)`, but `\(end)` does not depend on it",
                hint: "`from` names the first stage of the loop, one that `\(end)` reads directly or not")
        case .overlap(let member, let other, let end, let span):
            Diagnostic(.invalidLoop, at: span, "stage `\(member)` is in the loops of both `\(other)` and `\(end)`",
                hint: "loops cannot overlap or nest; merge them into one loop")
        }
    }
}
