/// Turns schema documents into a `CompiledSchema`: indexes resources and anchors, resolves every
/// `$ref` to a node, and compiles each keyword into a `Keyword` value. Runs once per schema.
struct SchemaCompiler {
    var documents: SchemaDocuments
    var output = CompiledSchema()
    let assertFormat: Bool
    private var memo: [SchemaLocation: Int] = [:]
    private var resourceIndices: [String: Int] = [:]
    private var pendingDynamicAnchors: [(resource: Int, name: String, location: SchemaLocation)] = []
    private var regexCache: [String: ECMARegex] = [:]

    /// The base URI of a root schema given without one; never shown to users as a place to fetch.
    static let defaultBaseURI = "urn:pipe:schema"

    init(options: JSONSchemaOptions) {
        documents = SchemaDocuments(remotes: options.remotes, defaultDraft: options.defaultDraft)
        assertFormat = options.assertFormat
    }

    /// Compiles `root` and everything it references; returns the root node's index.
    mutating func compileRoot(_ root: JSONValue, baseURI: String?) throws(SchemaError) -> Int {
        let document = documents.add(root, uri: SchemaDocuments.stripEmptyFragment(baseURI ?? Self.defaultBaseURI))
        let location = SchemaLocation(document: document, pointer: [])
        let scope = documents.scope(at: location)
        let index = try compile(location, scope: scope)
        while let pending = pendingDynamicAnchors.popLast() {
            let target = try compile(pending.location, scope: documents.scope(at: pending.location))
            output.resources[pending.resource].dynamicAnchors[pending.name] = target
        }
        return index
    }

    private mutating func resource(for uri: String) -> Int {
        if let index = resourceIndices[uri] { return index }
        let index = output.resources.count
        output.resources.append(SchemaResource(uri: uri))
        resourceIndices[uri] = index
        for (name, location) in documents.dynamicAnchors[uri] ?? [:] {
            pendingDynamicAnchors.append((index, name, location))
        }
        return index
    }

    /// Compiles the subschema at `location` (whose own scope is `scope`), once.
    mutating func compile(_ location: SchemaLocation, scope: CompileScope) throws(SchemaError) -> Int {
        if let index = memo[location] { return index }
        guard let value = documents.value(at: location) else {
            throw .notASchema(location: location.pointerText, found: "nothing")
        }
        let index = output.nodes.count
        output.nodes.append(SchemaNode(keywords: [], resource: resource(for: scope.base)))
        memo[location] = index
        switch value {
        case .bool(true):
            break
        case .bool(false):
            output.nodes[index].keywords = [CompiledKeyword(name: "", check: .alwaysFail)]
        case .object(let object):
            var keywords = KeywordList()
            try compileKeywords(object, at: location, scope: scope, into: &keywords)
            output.nodes[index].keywords = keywords.ordered
        default:
            throw .notASchema(location: location.pointerText, found: value.typeName)
        }
        return index
    }

    /// Compiles the child schema at `location + tokens`.
    mutating func compileChild(_ location: SchemaLocation, _ tokens: String..., scope: CompileScope) throws(SchemaError) -> Int {
        let childLocation = SchemaLocation(document: location.document, pointer: location.pointer + tokens)
        guard let value = documents.value(at: childLocation) else {
            throw .notASchema(location: childLocation.pointerText, found: "nothing")
        }
        guard SubschemaKeywords.isSchema(value) else {
            throw .notASchema(location: childLocation.pointerText, found: value.typeName)
        }
        return try compile(childLocation, scope: documents.enter(value, at: childLocation, from: scope))
    }

    /// True when the child at `location + tokens` is the `false` schema.
    func isFalseSchema(_ location: SchemaLocation, _ tokens: String...) -> Bool {
        documents.value(at: SchemaLocation(document: location.document, pointer: location.pointer + tokens)) == .bool(false)
    }

    /// Resolves a `$ref` value to a location, loading remotes and embedded meta-schemas as needed.
    mutating func resolveReference(_ reference: String, scope: CompileScope, keywordLocation: String) throws(SchemaError) -> SchemaLocation {
        let absolute = URIReference.resolve(reference, against: scope.base)
        let (uri, fragment) = URIReference.split(absolute)
        // A relative reference in a schema that has no base URI is shown as written.
        let isRelativeToNothing = URIReference(reference).scheme == nil && scope.base == Self.defaultBaseURI
        let shownURI = absolute.hasPrefix(Self.defaultBaseURI) || isRelativeToNothing ? reference : absolute
        _ = documents.load(uri)
        switch documents.locate(uri: uri, fragment: fragment) {
        case .success(let target):
            return target
        case .failure(.unknownDocument):
            throw .unresolvableReference(reference: reference, resolvedURI: shownURI, location: keywordLocation)
        case .failure(.missingTarget):
            throw .missingReferenceTarget(reference: reference, resolvedURI: shownURI, location: keywordLocation)
        }
    }

    /// Compiles the target of a reference.
    mutating func compileReference(_ reference: String, scope: CompileScope, keywordLocation: String) throws(SchemaError) -> (Int, SchemaLocation) {
        let target = try resolveReference(reference, scope: scope, keywordLocation: keywordLocation)
        let index = try compile(target, scope: documents.scope(at: target))
        return (index, target)
    }

    /// A compiled regex for `pattern`, shared across the schema.
    mutating func regex(_ pattern: String, location: String) throws(SchemaError) -> ECMARegex {
        if let cached = regexCache[pattern] { return cached }
        do {
            let regex = try ECMARegex(pattern)
            regexCache[pattern] = regex
            return regex
        } catch {
            throw .invalidPattern(pattern: pattern, location: location, reason: error.reason)
        }
    }
}

/// Keywords in evaluation order: assertions first (cheap, fail fast), then applicators,
/// then `unevaluated*`, which need the annotations of everything before them.
struct KeywordList {
    var assertions: [CompiledKeyword] = []
    var applicators: [CompiledKeyword] = []
    var unevaluated: [CompiledKeyword] = []

    var ordered: [CompiledKeyword] { assertions + applicators + unevaluated }
}
