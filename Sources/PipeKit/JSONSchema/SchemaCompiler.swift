/// Turns schema documents into a `CompiledSchema`: indexes resources and anchors, resolves every
/// `$ref` to a node, and compiles each keyword into a `Keyword` value. Runs once per schema.
struct SchemaCompiler {
    var documents: SchemaDocuments
    var output = CompiledSchema()
    let assertFormat: Bool
    let patternStepLimit: Int
    private var memo: [SchemaLocation: Int] = [:]
    /// Where each node comes from, by index (for messages).
    private var locations: [SchemaLocation] = []
    private var rootDocument = 0
    private var resourceIndices: [String: Int] = [:]
    private var pendingDynamicAnchors: [(resource: Int, name: String, location: SchemaLocation)] = []
    private var regexCache: [String: ECMARegex] = [:]

    /// The base URI of a root schema given without one; never shown to users as a place to fetch.
    static let defaultBaseURI = "urn:pipe:schema"

    init(options: JSONSchemaOptions) {
        documents = SchemaDocuments(remotes: options.remotes, defaultDraft: options.defaultDraft)
        assertFormat = options.assertFormat
        patternStepLimit = options.patternStepLimit
    }

    /// Compiles `root` and everything it references; returns the root node's index.
    mutating func compileRoot(_ root: JSONValue, baseURI: String?) throws(SchemaError) -> Int {
        let document = documents.add(root, uri: SchemaDocuments.stripEmptyFragment(baseURI ?? Self.defaultBaseURI))
        rootDocument = document
        let location = SchemaLocation(document: document, pointer: [])
        let scope = documents.scope(at: location)
        let index = try compile(location, scope: scope)
        while let pending = pendingDynamicAnchors.popLast() {
            let target = try compile(pending.location, scope: documents.scope(at: pending.location))
            output.resources[pending.resource].dynamicAnchors[pending.name] = target
        }
        try checkInPlaceCycles()
        return index
    }

    /// Throws when subschemas apply one another to the same value in a cycle (`{"$ref": "#"}`,
    /// `a → b → a` through `$defs`, `allOf: [{"$ref": "#"}]`): evaluating them would never
    /// reach a value. A cycle through `properties`, `items`, ... consumes part of the value at
    /// each turn: that is ordinary recursion. A `$dynamicRef` resolved at run time is left to
    /// the evaluator's own limit.
    private func checkInPlaceCycles() throws(SchemaError) {
        func inPlace(_ node: Int) -> [(keyword: String, target: Int)] {
            var edges: [(String, Int)] = []
            for keyword in output.nodes[node].keywords {
                switch keyword.check {
                case .ref(let target), .dynamicRef(let target, nil), .not(let target):
                    edges.append((keyword.name, target))
                case .allOf(let targets), .anyOf(let targets), .oneOf(let targets):
                    edges += targets.map { (keyword.name, $0) }
                case .conditional(let condition, let then, let otherwise):
                    edges += [("if", condition)] + (then.map { [("then", $0)] } ?? []) + (otherwise.map { [("else", $0)] } ?? [])
                case .dependentSchemas(let entries):
                    edges += entries.map { (keyword.name, $0.1) }
                default:
                    break
                }
            }
            return edges
        }
        // Depth-first, without recursion: 0 not seen, 1 on the current path, 2 done.
        var state = [UInt8](repeating: 0, count: output.nodes.count)
        for start in output.nodes.indices where state[start] == 0 {
            var path: [(node: Int, edges: [(keyword: String, target: Int)], next: Int)] = [(start, inPlace(start), 0)]
            state[start] = 1
            while let top = path.last {
                guard top.next < top.edges.count else {
                    state[top.node] = 2
                    path.removeLast()
                    continue
                }
                let edge = top.edges[top.next]
                path[path.count - 1].next += 1
                switch state[edge.target] {
                case 0:
                    state[edge.target] = 1
                    path.append((edge.target, inPlace(edge.target), 0))
                case 1:
                    let first = path.lastIndex { $0.node == edge.target }!
                    let cycle = path[first...]
                    let keyword = cycle.first!.edges[cycle.first!.next - 1].keyword
                    throw .referenceCycle(
                        chain: cycle.map { display(locations[$0.node]) } + [display(locations[edge.target])],
                        location: locations[edge.target].pointerText + "/" + JSONPointer.escape(keyword))
                default:
                    break
                }
            }
        }
    }

    /// `#/pointer` in the root document, `URI#/pointer` in another.
    private func display(_ location: SchemaLocation) -> String {
        (location.document == rootDocument ? "" : documents.documentURIs[location.document]) + "#" + location.pointerText
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
        locations.append(location)
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
            let regex = try ECMARegex(pattern, stepLimit: patternStepLimit)
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
