/// The JSON Schema of a child spec's output, made from its `output:` (or its final stages)
/// and the shapes the compiler walked there: what the parent's references to a `pipeline:`
/// stage are checked against (`{{ team.findings }}`, did-you-mean included).
///
/// A value read from a stage keeps the stage's schema; a part of a schema is wrapped with a
/// copy of its document's `$defs`/`definitions` under an `$id` of its own, so that its
/// `#/$defs/...` references still resolve. A template with text around its references is a
/// string; a reference whose value may be absent may be null, as the output assembles it.
enum ChildOutputSchema {
    static func make(_ resolved: ResolvedPipeline, pipeline: CompiledPipeline) -> JSONValue {
        var counter = 0
        func schema(of template: Template) -> JSONValue {
            guard let reference = template.singleReference else { return ["type": "string"] }
            guard let found = resolved.outputReferences.first(where: { $0.reference == reference }), let reached = found.reached
            else { return true }
            counter += 1
            return wrap(reached.shape, document: document(of: found.root, in: resolved), mayBeAbsent: reached.mayBeAbsent,
                id: counter)
        }
        switch pipeline.output {
        case .single(let template):
            return schema(of: template)
        case .fields(let fields):
            return object(fields.map { ($0.name, schema(of: $0.template)) })
        case .sinks(let names):
            return object(names.map { name in
                guard let stage = resolved.stage(named: name), let shape = stage.valueShape else { return (name, true) }
                counter += 1
                return (name, wrap(shape, document: stage.output.schema, mayBeAbsent: stage.skipReason != nil, id: counter))
            })
        }
    }

    private static func object(_ properties: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject([
            ("type", "object"), ("properties", .object(JSONObject(properties))),
            ("required", .array(properties.map { .string($0.0) })), ("additionalProperties", false),
        ]))
    }

    /// The schema document a reference's root lives in: the input's or its stage's.
    private static func document(of root: String, in resolved: ResolvedPipeline) -> JSONValue? {
        root == "input" ? resolved.input.schema : resolved.stage(named: root)?.output.schema
    }

    /// One schema for the alternatives of `shape`.
    private static func wrap(_ shape: SchemaShape, document: JSONValue?, mayBeAbsent: Bool, id: Int) -> JSONValue {
        if shape.schemas.contains(where: SchemaShape.isUnconstrained) { return true }
        var alternatives = shape.schemas
        if mayBeAbsent { alternatives.append(["type": "null"]) }
        let definitions = ["$defs", "definitions"].compactMap { key in document?.objectValue?[key].map { (key, $0) } }
        if definitions.isEmpty, alternatives.count == 1 { return alternatives[0] }
        var pairs: [(String, JSONValue)] = []
        if !definitions.isEmpty { pairs.append(("$id", .string("urn:pipe:child-output:\(id)"))) }
        pairs += definitions
        pairs.append(("anyOf", .array(alternatives)))
        return .object(JSONObject(pairs))
    }
}
