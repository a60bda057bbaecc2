/// Fills templates with values: the input and the outputs of finished stages.
///
/// A string is inserted verbatim and any other value as compact JSON. A template that is
/// exactly one reference keeps the value's JSON type (used for the pipeline's output).
public struct TemplateRenderer: Sendable {
    public var values: [String: JSONValue]

    /// - Parameter values: `input` and each finished stage's output, by name.
    public init(values: [String: JSONValue]) {
        self.values = values
    }

    /// The value a reference names, or its `??` fallback when that is absent or null; nil
    /// when absent with no fallback.
    public func value(of reference: TemplateReference) -> JSONValue? {
        let found = lookup(reference)
        guard found == nil || found == .null, let fallback = reference.fallback else { return found }
        switch fallback {
        case .literal(let value, _): return value
        case .reference(let next): return value(of: next) ?? found
        }
    }

    private func lookup(_ reference: TemplateReference) -> JSONValue? {
        guard var current = values[reference.root.value] else { return nil }
        for segment in reference.path {
            switch segment.kind {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .index(let index):
                guard let next = current[index] else { return nil }
                current = next
            }
        }
        return current
    }

    /// The template as text. An absent optional field renders as nothing.
    public func render(_ template: Template) -> String {
        var text = ""
        for part in template.parts {
            switch part {
            case .text(let literal): text += literal
            case .reference(let reference): text += value(of: reference).map(Self.text(of:)) ?? ""
            }
        }
        return text
    }

    /// A template as a value: one reference keeps its type (null when absent), anything
    /// else is a string.
    public func evaluate(_ template: Template) -> JSONValue {
        if let reference = template.singleReference { return value(of: reference) ?? .null }
        return .string(render(template))
    }

    /// How a value reads inside a prompt.
    public static func text(of value: JSONValue) -> String {
        if case .string(let string) = value { return string }
        return value.serialized()
    }
}
