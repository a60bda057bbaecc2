/// `pipeline: ./team.yaml` on a stage, with `input:`: the stage runs another spec (its child)
/// inside the parent's run, and its value is the child's output.
public struct ChildPipelineSpec: Sendable {
    /// The child spec's path as written, relative to the parent spec's directory.
    public var path: Located<String>
    /// `input:`: what the child reads as its `{{ input }}`; nil: the parent's own input.
    public var input: ChildInputSpec?
}

/// `input:` of a pipeline stage: one template (rendered like a prompt; a template that is a
/// single `{{ reference }}` passes the value itself), or a mapping of names to templates
/// (and literals) for an object input.
public enum ChildInputSpec: Sendable {
    case template(Template)
    case fields([ChildInputField], span: Span)

    /// Every template, in written order.
    public var templates: [Template] {
        switch self {
        case .template(let template): [template]
        case .fields(let fields, _): fields.compactMap(\.template)
        }
    }
}

/// A field of `input:` written as a mapping: a template, or a literal YAML value
/// (a number, a boolean, a list, a mapping).
public struct ChildInputField: Sendable {
    public var name: Located<String>
    public var value: Value

    public enum Value: Sendable {
        case template(Template)
        case literal(JSONValue, YAMLNode)
    }

    public var template: Template? {
        if case .template(let template) = value { return template }
        return nil
    }
}

extension StageSpec {
    /// The stage asks a model: it neither runs a command (`run:`) nor a spec (`pipeline:`).
    public var callsModel: Bool { command == nil && pipeline == nil }
}
