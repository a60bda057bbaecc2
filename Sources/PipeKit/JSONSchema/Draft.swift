/// The JSON Schema dialects the validator understands.
public enum JSONSchemaDraft: String, Sendable, Hashable, CaseIterable {
    /// The default: draft 2020-12.
    case draft2020_12 = "https://json-schema.org/draft/2020-12/schema"
    /// Draft 2019-09, supported so that cross-draft `$ref`s behave; 2020-12 otherwise.
    case draft2019_09 = "https://json-schema.org/draft/2019-09/schema"
    /// Draft-07 (also used for draft-06 and draft-04 `$schema` values, which it mostly subsumes).
    case draft7 = "http://json-schema.org/draft-07/schema"

    /// The URI of the dialect's meta-schema, as embedded.
    public var metaSchemaURI: String { rawValue }

    /// The draft a `$schema` value names, or nil for an unknown (possibly custom) meta-schema.
    public init?(schemaURI: String) {
        var uri = schemaURI
        if uri.hasSuffix("#") { uri.removeLast() }
        if uri.hasPrefix("https://") { uri = "http://" + uri.dropFirst("https://".count) }
        switch uri {
        case "http://json-schema.org/draft/2020-12/schema": self = .draft2020_12
        case "http://json-schema.org/draft/2019-09/schema": self = .draft2019_09
        case "http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-06/schema",
             "http://json-schema.org/draft-04/schema":
            self = .draft7
        default: return nil
        }
    }

    /// True for drafts where `$ref` replaces its sibling keywords and `items` may be an array.
    var isLegacy: Bool { self == .draft7 }
}

/// The 2020-12 vocabularies, which a custom meta-schema can switch on and off with `$vocabulary`.
struct Vocabularies: OptionSet, Hashable, Sendable {
    let rawValue: UInt16
    init(rawValue: UInt16) { self.rawValue = rawValue }
    static let core = Vocabularies(rawValue: 1 << 0)
    static let applicator = Vocabularies(rawValue: 1 << 1)
    static let unevaluated = Vocabularies(rawValue: 1 << 2)
    static let validation = Vocabularies(rawValue: 1 << 3)
    static let metaData = Vocabularies(rawValue: 1 << 4)
    static let formatAnnotation = Vocabularies(rawValue: 1 << 5)
    static let formatAssertion = Vocabularies(rawValue: 1 << 6)
    static let content = Vocabularies(rawValue: 1 << 7)

    /// Every vocabulary a standard meta-schema enables (format as an annotation).
    static let standard: Vocabularies = [.core, .applicator, .unevaluated, .validation, .metaData, .formatAnnotation, .content]

    /// The vocabulary a `$vocabulary` URI names (2020-12 or 2019-09), or nil when unknown.
    init?(uri: String) {
        let name = uri.split(separator: "/").last.map(String.init) ?? ""
        guard uri.hasPrefix("https://json-schema.org/draft/2020-12/vocab/") || uri.hasPrefix("https://json-schema.org/draft/2019-09/vocab/") else {
            return nil
        }
        switch name {
        case "core": self = .core
        case "applicator": self = .applicator
        case "unevaluated": self = .unevaluated
        case "validation": self = .validation
        case "meta-data": self = .metaData
        case "format-annotation", "format": self = .formatAnnotation
        case "format-assertion": self = .formatAssertion
        case "content": self = .content
        default: return nil
        }
    }
}
