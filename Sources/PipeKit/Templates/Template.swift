/// A string with `{{ path }}` references, parsed once, with the place of every reference.
public struct Template: Sendable {
    public enum Part: Sendable {
        case text(String)
        case reference(TemplateReference)
    }

    public var parts: [Part]
    /// Where the whole string was written.
    public var span: Span

    public init(parts: [Part], span: Span) {
        self.parts = parts
        self.span = span
    }

    /// Every reference, the fallbacks of `??` included, in written order.
    public var references: [TemplateReference] {
        parts.flatMap { part -> [TemplateReference] in
            guard case .reference(let reference) = part else { return [] }
            return reference.chain
        }
    }

    /// A template that is exactly one reference keeps the JSON type of the value it names.
    public var singleReference: TemplateReference? {
        if parts.count == 1, case .reference(let reference) = parts[0] { return reference }
        return nil
    }
}

/// `{{ researcher.key_findings[0] }}`: a root (`input` or a stage) and a path into its value.
public struct TemplateReference: Sendable, Hashable, CustomStringConvertible {
    public var root: Located<String>
    public var path: [PathSegment]
    /// From the first character of the root to the end of the path.
    public var span: Span
    /// `?? ...`: what to use when the value is absent or null (a skipped stage, a missing
    /// optional field, the first iteration of a loop).
    public var fallback: TemplateFallback?

    public init(root: Located<String>, path: [PathSegment], span: Span, fallback: TemplateFallback? = nil) {
        self.root = root
        self.path = path
        self.span = span
        self.fallback = fallback
    }

    /// This reference and the references among its fallbacks.
    public var chain: [TemplateReference] {
        var result = [self]
        if case .reference(let next) = fallback { result += next.chain }
        return result
    }

    /// As written, fallbacks included: `critic.notes ?? "none"`.
    public var source: String {
        switch fallback {
        case nil: description
        case .reference(let next): "\(description) ?? \(next.source)"
        case .literal(let value, _): "\(description) ?? \(value.serialized())"
        }
    }

    /// The path as written, normalised: `researcher.key_findings[0]`.
    public var description: String {
        root.value + path.map(\.description).joined()
    }

    /// The path up to (not including) segment `count`: `researcher.key_findings`.
    public func prefix(_ count: Int) -> String {
        root.value + path.prefix(count).map(\.description).joined()
    }
}

/// One step of a reference path: `.field`, `["a key"]` or `[0]`.
public struct PathSegment: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case field(String)
        case index(Int)
    }

    public var kind: Kind
    public var span: Span

    public init(_ kind: Kind, span: Span) {
        self.kind = kind
        self.span = span
    }

    public var description: String {
        switch kind {
        case .field(let name):
            name.allSatisfy(TemplateParser.isIdentifierCharacter) && !name.isEmpty ? ".\(name)" : "[\"\(name)\"]"
        case .index(let index): "[\(index)]"
        }
    }
}

/// The right side of `??` in a template: another reference, or a literal.
public indirect enum TemplateFallback: Sendable, Hashable {
    case reference(TemplateReference)
    case literal(JSONValue, Span)
}
