// Rules `unknown-reference`, `unknown-field` and `reference-type`: every `{{ path }}` names
// `input` or a stage, and its path exists in the JSON Schema of what it points into.
extension Compilation {
    mutating func checkReferences() {
        for stage in spec.stages {
            let templates = [setting(stage, \.system), stage.prompt].compactMap { $0 }
            for reference in templates.flatMap(\.references) {
                if check(reference), reference.root.value != "input" {
                    edges.append(DAG.Edge(stage: stage.name.value, dependency: reference.root.value, span: reference.root.span))
                }
            }
        }
        for template in spec.output?.templates ?? [] {
            for reference in template.references { _ = check(reference) }
        }
    }

    /// Checks one reference; true when its root names `input` or a stage.
    private mutating func check(_ reference: TemplateReference) -> Bool {
        let root = reference.root.value
        let shape: SchemaShape?
        if root == "input" {
            shape = inputSchema.map { SchemaShape($0) } ?? (spec.input.schema == nil ? .string : nil)
        } else if let stage = spec.stage(named: root) {
            if let schema = outputSchemas[root] {
                shape = SchemaShape(schema)
            } else {
                shape = stage.outputSchema == nil ? .string : nil
            }
        } else {
            diagnostics.report(
                .unknownReference, at: reference.root.span, "`\(root)` is neither `input` nor a stage",
                hint: Suggestions.hint(for: root, in: ["input"] + spec.stages.map(\.name.value), kind: "names in scope"))
            return false
        }
        // A schema that failed to load was reported already; its references cannot be checked.
        guard var current = shape else { return true }
        for (index, segment) in reference.path.enumerated() {
            let step = switch segment.kind {
            case .field(let name): current.field(name)
            case .index(let position): current.index(position)
            }
            switch step {
            case .success(let next):
                current = next
            case .failure(let error):
                report(error, at: segment, of: reference, index: index, shape: current)
                return true
            }
        }
        return true
    }

    private mutating func report(
        _ error: SchemaShape.StepError, at segment: PathSegment, of reference: TemplateReference, index: Int, shape: SchemaShape
    ) {
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
