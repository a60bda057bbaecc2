extension SpecDecoder {
    /// `pipeline:` with `input`: a stage that runs another spec; nil without `pipeline:` (an
    /// `input` alone is reported). The `pipeline-stage` rule checks the keys that do not
    /// apply to it and everything about the child.
    mutating func childPipeline(_ fields: [YAMLPair], stage: String) -> ChildPipelineSpec? {
        let field = { (key: String) in fields.first { $0.key.scalar == key } }
        guard let written = field("pipeline") else {
            if let input = field("input") {
                report(.invalidValue, at: input.key.span, "`input` only applies to a stage that runs a spec (`pipeline:`)",
                    hint: "add `pipeline: ./child.yaml`, or remove `input`; a model stage reads `{{ input }}` in its prompt")
            }
            return nil
        }
        guard let path = nonEmptyString(written.value, key: "pipeline") else { return nil }
        var child = ChildPipelineSpec(path: path)
        if let input = field("input") { child.input = childInput(input.value, stage: stage) }
        return child
    }

    /// `input:`: a template, or a mapping of names to templates and literals.
    private mutating func childInput(_ node: YAMLNode, stage: String) -> ChildInputSpec? {
        guard let pairs = node.mapping else {
            if case .string = YAMLScalarValue(node), node.scalar != nil {
                return template(node, key: "input").map(ChildInputSpec.template)
            }
            typeMismatch(node, key: "input", expected: "a template or a mapping of names to templates",
                hint: "write `input: \"{{ stage.field }}\"` or `input: { topic: \"{{ planner.topic }}\" }`")
            return nil
        }
        var fields: [ChildInputField] = []
        for pair in pairs {
            guard let name = key(pair) else { continue }
            if case .scalar = pair.value.kind, case .string = YAMLScalarValue(pair.value) {
                guard let template = template(pair.value, key: name.value) else { continue }
                fields.append(ChildInputField(name: name, value: .template(template)))
            } else {
                fields.append(ChildInputField(name: name, value: .literal(pair.value.json, pair.value)))
            }
        }
        return .fields(fields, span: node.span)
    }
}
