// Rules `unknown-reference`, `unknown-field` and `reference-type`: every `{{ path }}` (and
// every reference of a condition) names `input`, a stage or the item of a `for_each`, and
// its path exists in the JSON Schema of what it points into. A `for_each` must name a list
// (`reference-type`), under an item name that hides no stage (`invalid-value`).
struct ReferenceRules: Rule {
    let ids: [RuleID] = [.invalidValue, .unknownReference, .unknownField, .referenceType]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let names = resolved.stageNames
        for stage in resolved.stages {
            if let forEach = stage.forEach {
                let item = forEach.spec.itemName
                if forEach.hidesStage {
                    diagnostics.report(
                        .invalidValue, at: item.span, "the item name `\(item.value)` hides the stage `\(item.value)`",
                        hint: "choose another name with `as:`")
                }
                report(forEach.list, stages: names, into: &diagnostics)
                if let found = forEach.notAList {
                    diagnostics.report(
                        .referenceType, at: forEach.spec.reference.span,
                        "`for_each` needs a list, but `\(forEach.spec.reference)` is \(found)",
                        hint: "name an array, such as a field with `type: array` in the stage's output schema")
                }
            }
            for reference in stage.references { report(reference, stages: names, into: &diagnostics) }
        }
        for reference in resolved.outputReferences + resolved.conditions.flatMap(\.references) {
            report(reference, stages: names, into: &diagnostics)
        }
    }

    /// Where a reference breaks: its root, or the first segment of its path that does not fit.
    private func report(_ resolved: ResolvedReference, stages: [String], into diagnostics: inout DiagnosticSink) {
        let reference = resolved.reference
        switch resolved.resolution {
        case .unknownRoot:
            let root = reference.root.value
            diagnostics.report(
                .unknownReference, at: reference.root.span, "`\(root)` is neither `input` nor a stage",
                hint: Suggestions.hint(
                    for: root, in: ["input"] + (resolved.item.map { [$0] } ?? []) + stages, kind: "names in scope"))
        case .unchecked, .walked(.reached):
            break
        case .walked(.broken(let index, let error, _)):
            let segment = reference.path[index]
            let owner = reference.prefix(index)
            switch (error, segment.kind) {
            case (.noSuchField(let known), .field(let name)):
                let hint = Suggestions.hint(for: name, in: known, kind: "fields")
                diagnostics.report(
                    .unknownField, at: segment.span, "`\(owner)` has no field `\(name)` in its schema",
                    hint: hint ?? "the schema of `\(owner)` declares no properties; add `\(name)` to it")
            case (.wrongType(let found), .field(let name)):
                diagnostics.report(
                    .referenceType, at: segment.span,
                    "`\(owner)` is \(found), so it has no field `\(name)`",
                    hint: found.contains("a list") ? "index the list first, e.g. `\(owner)[0].\(name)`" : "reference `\(owner)` itself")
            case (.wrongType(let found), .index(let position)):
                diagnostics.report(
                    .referenceType, at: segment.span, "`\(owner)` is \(found), not a list, so it cannot be indexed with `[\(position)]`",
                    hint: "reference `\(owner)` itself, or one of its fields")
            case (.indexOutOfRange(let count), .index(let position)):
                diagnostics.report(
                    .referenceType, at: segment.span,
                    "`\(owner)` has at most \(count) item\(count == 1 ? "" : "s"), so `[\(position)]` never exists",
                    hint: count > 0 ? "indexes start at 0; the last is `[\(count - 1)]`" : nil)
            default:
                diagnostics.report(.referenceType, at: segment.span, "`\(reference)` does not fit the schema of `\(owner)`")
            }
        }
    }
}
