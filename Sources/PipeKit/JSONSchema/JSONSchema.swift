/// A compiled JSON Schema (draft 2020-12 by default; draft-07 when `$schema` says so).
///
/// Compile once, validate many times; a compiled schema is immutable and can be shared
/// across tasks.
///
/// ```swift
/// let schema = try JSONSchema(compiling: ["type": "object", "required": ["title"]])
/// for error in schema.validate(value) { print(error) }   // (root): missing required property "title"
/// ```
public final class JSONSchema: Sendable {
    let compiled: CompiledSchema
    let root: Int
    /// The schema document this was compiled from.
    public let document: JSONValue

    /// Compiles `schema`. Throws `SchemaError` when it cannot be used: a keyword of the wrong
    /// shape, an invalid regular expression, or a `$ref` to a document that is neither
    /// embedded (the official meta-schemas) nor in `options.remotes`. Nothing is fetched.
    public init(compiling schema: JSONValue, options: JSONSchemaOptions = .init()) throws(SchemaError) {
        var compiler = SchemaCompiler(options: options)
        root = try compiler.compileRoot(schema, baseURI: options.baseURI)
        compiled = compiler.output
        document = schema
    }

    /// Every way `instance` fails the schema, up to `maxErrors`, in evaluation order.
    /// Empty when the instance is valid.
    public func validate(_ instance: JSONValue, maxErrors: Int = 100) -> [ValidationError] {
        var evaluator = Evaluator(schema: compiled, maxErrors: max(1, maxErrors), collecting: true)
        var annotations = Annotations()
        let valid = evaluator.validate(root, instance, &annotations)
        if let halted = evaluator.halted { return [halted] }
        if !valid && evaluator.errors.isEmpty {
            // Defensive: a failure must always explain itself.
            return [ValidationError(instanceLocation: "", keywordLocation: "", message: "does not match the schema")]
        }
        return evaluator.errors
    }

    /// Whether `instance` is valid; faster than `validate`, since it stops at the first failure.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = Evaluator(schema: compiled, maxErrors: 1, collecting: false)
        var annotations = Annotations()
        return evaluator.validate(root, instance, &annotations) && evaluator.halted == nil
    }
}

extension JSONSchema {
    /// The draft a schema document declares with `$schema`, or `defaultDraft`.
    public static func draft(of schema: JSONValue, defaultDraft: JSONSchemaDraft = .draft2020_12) -> JSONSchemaDraft {
        guard let uri = schema["$schema"]?.stringValue, let draft = JSONSchemaDraft(schemaURI: uri) else { return defaultDraft }
        return draft
    }

    /// The compiled official meta-schema of `draft`.
    public static func metaSchema(for draft: JSONSchemaDraft) -> JSONSchema {
        switch draft {
        case .draft2020_12: return metaSchema2020
        case .draft2019_09: return metaSchema2019
        case .draft7: return metaSchema7
        }
    }

    private static let metaSchema2020 = compileEmbedded(.draft2020_12)

    /// Starts compiling the 2020-12 meta-schema (about 10M instructions, once a process) on a
    /// thread of its own: the first schema checked against it then finds it ready, or waits
    /// only for the rest. `pipe` starts it before it parses its arguments.
    public static func prepareMetaSchema() {
        startOnOwnThread { _ = metaSchema2020 }
    }
    private static let metaSchema2019 = compileEmbedded(.draft2019_09)
    private static let metaSchema7 = compileEmbedded(.draft7)

    private static func compileEmbedded(_ draft: JSONSchemaDraft) -> JSONSchema {
        let text = EmbeddedMetaSchemas.documents[draft.metaSchemaURI]!
        // The embedded documents are fixed and known to compile.
        // swiftlint:disable:next force_try
        return try! JSONSchema(compiling: try! JSONParser.parse(text), options: JSONSchemaOptions(defaultDraft: draft, baseURI: draft.metaSchemaURI))
    }

    /// How `schema` fails its meta-schema: 2020-12's, or draft-07's when its `$schema` says so.
    /// Empty when the schema is a well-formed schema document.
    public static func metaSchemaErrors(for schema: JSONValue) -> [ValidationError] {
        metaSchema(for: draft(of: schema)).validate(schema)
    }
}
