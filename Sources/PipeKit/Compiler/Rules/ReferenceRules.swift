// Rules `unknown-reference`, `unknown-field` and `reference-type`: every `{{ path }}` names
// `input`, a stage or the item of a `for_each`, and its path exists in the JSON Schema of
// what it points into. A `for_each` must name a list.
extension Compilation {
    mutating func checkReferences() {
        for stage in spec.stages {
            var item: (name: String, shape: SchemaShape?)?
            if let forEach = stage.forEach {
                item = (forEach.itemName.value, checkForEach(forEach, of: stage))
            }
            let templates = [setting(stage, \.system), stage.prompt].compactMap { $0 }
            for reference in templates.flatMap(\.references) {
                if check(reference, item: item), reference.root.value != "input", reference.root.value != item?.name {
                    edges.append(DAG.Edge(stage: stage.name.value, dependency: reference.root.value, span: reference.root.span))
                }
            }
        }
        for template in spec.output?.templates ?? [] {
            for reference in template.references { _ = check(reference, item: nil) }
        }
    }

    /// Checks a `for_each` reference and returns the shape of one item.
    private mutating func checkForEach(_ forEach: ForEachSpec, of stage: StageSpec) -> SchemaShape? {
        let name = forEach.itemName
        if stages[name.value] != nil {
            diagnostics.report(
                .invalidValue, at: name.span, "the item name `\(name.value)` hides the stage `\(name.value)`",
                hint: "choose another name with `as:`")
        }
        guard let list = resolve(forEach.reference, item: nil) else { return nil }
        if let root = stages[forEach.reference.root.value] {
            edges.append(DAG.Edge(stage: stage.name.value, dependency: root.name.value, span: forEach.reference.root.span))
        }
        switch list.index(0) {
        case .success(let itemShape):
            return itemShape
        case .failure(.indexOutOfRange):
            return SchemaShape(true)
        case .failure:
            diagnostics.report(
                .referenceType, at: forEach.reference.span,
                "`for_each` needs a list, but `\(forEach.reference)` is \(list.typeDescription)",
                hint: "name an array, such as a field with `type: array` in the stage's output schema")
            return nil
        }
    }

    /// The shape of a stage's value as other stages see it: a `for_each` stage's value is
    /// the list of its items' outputs.
    func valueShape(of stage: StageSpec) -> SchemaShape? {
        let one: JSONValue
        if let schema = outputSchemas[stage.name.value] {
            one = schema
        } else if stage.outputSchema == nil {
            one = ["type": "string"]
        } else {
            return nil
        }
        return SchemaShape(stage.forEach == nil ? one : ["type": "array", "items": one])
    }

    /// Checks one reference; true when its root names `input`, a stage or the item.
    private mutating func check(_ reference: TemplateReference, item: (name: String, shape: SchemaShape?)?) -> Bool {
        let root = reference.root.value
        if let item, root == item.name {
            guard let shape = item.shape else { return true }
            walk(reference, from: shape)
            return true
        }
        _ = resolve(reference, item: item)
        return root == "input" || stages[root] != nil
    }

    /// The shape a reference to `input` or a stage points at, reporting where its path breaks.
    mutating func resolve(_ reference: TemplateReference, item: (name: String, shape: SchemaShape?)?) -> SchemaShape? {
        let root = reference.root.value
        guard root == "input" || stages[root] != nil else {
            diagnostics.report(
                .unknownReference, at: reference.root.span, "`\(root)` is neither `input` nor a stage",
                hint: Suggestions.hint(
                    for: root, in: ["input"] + (item.map { [$0.name] } ?? []) + spec.stages.map(\.name.value),
                    kind: "names in scope"))
            return nil
        }
        // A schema that failed to load was reported already; its references cannot be checked.
        guard let shape = rootShape(of: root) else { return nil }
        return walk(reference, from: shape)
    }

    /// The shape of `input` (raw text when it declares no schema) or of a stage's value; nil
    /// for an unknown name or a schema that failed to load.
    func rootShape(of root: String) -> SchemaShape? {
        if root == "input" { return inputSchema.map { SchemaShape($0) } ?? (spec.input.schema == nil ? .string : nil) }
        return stages[root].flatMap(valueShape(of:))
    }

    /// Follows a reference's path through a shape; nil (reported) where it breaks.
    @discardableResult
    private mutating func walk(_ reference: TemplateReference, from shape: SchemaShape) -> SchemaShape? {
        var current = shape
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
                return nil
            }
        }
        return current
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
