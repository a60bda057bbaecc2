/// A schema document prepared for `SchemaShape` and the mock provider: its `$ref`s made
/// absolute where they are written, its resources (`$id`) and anchors indexed, and every
/// `$ref` followed by `SchemaDocuments.locate`, the resolver the validator uses. So lint and
/// the mock follow a reference to the very schema a reply is validated against at run time.
///
/// A reference to another document (a URL, a file) is not followed: nothing is fetched, and
/// the validator reports it when the schema is checked (`invalid-schema`).
final class SchemaReferences: Sendable {
    /// The document, its `$ref`s absolute.
    let root: JSONValue
    /// Nil for a document without `$ref`, which needs no index.
    private let documents: SchemaDocuments?

    init(_ schema: JSONValue) {
        guard Self.containsReference(schema) else {
            root = schema
            documents = nil
            return
        }
        var documents = SchemaDocuments(remotes: [:], defaultDraft: .draft2020_12)
        let base = SchemaCompiler.defaultBaseURI
        root = documents.absolutizingReferences(
            in: schema, at: SchemaLocation(document: 0, pointer: []), scope: documents.rootScope(uri: base))
        documents.add(root, uri: base)
        self.documents = documents
    }

    /// The schema a `$ref` of `root` (absolute) points at, or nil when it cannot be followed.
    func target(of reference: String) -> JSONValue? {
        guard let documents, case .success(let location) = documents.locate(reference) else { return nil }
        return documents.value(at: location)
    }

    private static func containsReference(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object): object["$ref"] != nil || object.values.contains(where: containsReference)
        case .array(let items): items.contains(where: containsReference)
        default: false
        }
    }
}
