/// A place in one of the documents the compiler knows: the root schema, a preloaded remote,
/// or an embedded meta-schema.
struct SchemaLocation: Hashable {
    var document: Int
    var pointer: [String]

    func appending(_ tokens: String...) -> SchemaLocation {
        SchemaLocation(document: document, pointer: pointer + tokens)
    }

    var pointerText: String { JSONPointer(tokens: pointer).description }
}

/// The lexical context of a subschema: its base URI, dialect and vocabularies.
struct CompileScope {
    var base: String
    var draft: JSONSchemaDraft
    var vocabularies: Vocabularies
}

/// Which keywords hold subschemas, per dialect: used to find `$id`s and anchors without
/// mistaking data (an `$id` inside `enum` or `const`) for schemas.
enum SubschemaKeywords {
    static let single: Set<String> = [
        "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema", "items", "additionalItems",
    ]
    static let arrays: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]
    static let maps: Set<String> = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"]

    /// The subschemas directly inside `object`, with the pointer tokens leading to each.
    static func children(of object: JSONObject) -> [([String], JSONValue)] {
        var result: [([String], JSONValue)] = []
        for (key, value) in object {
            if single.contains(key), isSchema(value) {
                result.append(([key], value))
            } else if arrays.contains(key), case .array(let elements) = value {
                for (i, element) in elements.enumerated() where isSchema(element) {
                    result.append(([key, String(i)], element))
                }
            } else if maps.contains(key), case .object(let members) = value {
                for (name, member) in members where isSchema(member) {
                    result.append(([key, name], member))
                }
            }
        }
        return result
    }

    static func isSchema(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .bool: return true
        default: return false
        }
    }
}

/// The documents a compilation can reach, with every resource (`$id`) and anchor indexed.
struct SchemaDocuments {
    var documents: [JSONValue] = []
    var documentURIs: [String] = []
    /// Resource URI (no fragment) → where the resource's root is.
    var resources: [String: SchemaLocation] = [:]
    /// `URI#name` → where `$anchor` / `$dynamicAnchor` (or draft-07 `$id: "#name"`) is.
    var anchors: [String: SchemaLocation] = [:]
    /// Resource URI → `$dynamicAnchor` name → location.
    var dynamicAnchors: [String: [String: SchemaLocation]] = [:]
    let remotes: [String: JSONValue]
    let defaultDraft: JSONSchemaDraft
    /// Meta-schema URI → its dialect and vocabularies (cached).
    private var dialects: [String: (JSONSchemaDraft, Vocabularies)] = [:]

    init(remotes: [String: JSONValue], defaultDraft: JSONSchemaDraft) {
        var normalized: [String: JSONValue] = [:]
        for (uri, document) in remotes { normalized[Self.stripEmptyFragment(uri)] = document }
        self.remotes = normalized
        self.defaultDraft = defaultDraft
    }

    static func stripEmptyFragment(_ uri: String) -> String {
        uri.hasSuffix("#") ? String(uri.dropLast()) : uri
    }

    /// Adds a document known by `uri` and indexes its resources and anchors.
    @discardableResult
    mutating func add(_ document: JSONValue, uri: String) -> Int {
        let index = documents.count
        documents.append(document)
        documentURIs.append(uri)
        let location = SchemaLocation(document: index, pointer: [])
        if resources[uri] == nil { resources[uri] = location }
        let scope = enter(document, at: location, from: rootScope(uri: uri))
        indexSubschemas(of: document, at: location, scope: scope)
        return index
    }

    /// Makes sure the document for `uri` (no fragment) is loaded from the preloaded remotes or
    /// the embedded meta-schemas; false when it is unknown.
    mutating func load(_ uri: String) -> Bool {
        if resources[uri] != nil { return true }
        if let remote = remotes[uri] {
            add(remote, uri: uri)
            return true
        }
        if let text = EmbeddedMetaSchemas.documents[uri], let document = try? JSONParser.parse(text) {
            add(document, uri: uri)
            return true
        }
        // Spelling variants of a meta-schema URI (https for http, a trailing '#') name the same document.
        if let draft = JSONSchemaDraft(schemaURI: uri), draft.metaSchemaURI != uri, load(draft.metaSchemaURI) {
            resources[uri] = resources[draft.metaSchemaURI]
            return true
        }
        return false
    }

    func rootScope(uri: String) -> CompileScope {
        CompileScope(base: uri, draft: defaultDraft, vocabularies: .standard)
    }

    /// The JSON value at `location`, or nil.
    func value(at location: SchemaLocation) -> JSONValue? {
        JSONPointer(tokens: location.pointer).resolve(in: documents[location.document])
    }

    /// The scope inside the subschema `value` at `location`, given the scope around it:
    /// applies `$schema` (at resource roots) and `$id`.
    mutating func enter(_ value: JSONValue, at location: SchemaLocation, from outer: CompileScope) -> CompileScope {
        guard case .object(let object) = value else { return outer }
        var scope = outer
        let id = object["$id"]?.stringValue
        if let schemaURI = object["$schema"]?.stringValue, location.pointer.isEmpty || id != nil {
            (scope.draft, scope.vocabularies) = dialect(of: schemaURI)
        }
        if let id, !(scope.draft.isLegacy && object["$ref"] != nil), !(scope.draft.isLegacy && id.hasPrefix("#")) {
            scope.base = URIReference.split(URIReference.resolve(id, against: scope.base)).base
        }
        return scope
    }

    /// The dialect and vocabularies a `$schema` URI selects. A custom meta-schema that is
    /// preloaded contributes its `$vocabulary`; an unknown one falls back to the default dialect.
    mutating func dialect(of schemaURI: String) -> (JSONSchemaDraft, Vocabularies) {
        if let draft = JSONSchemaDraft(schemaURI: schemaURI) { return (draft, .standard) }
        let uri = Self.stripEmptyFragment(schemaURI)
        if let cached = dialects[uri] { return cached }
        var result = (defaultDraft, Vocabularies.standard)
        dialects[uri] = result  // guards against meta-schemas that name themselves
        if load(uri), let location = resources[uri], case .object(let meta)? = value(at: location) {
            if let metaSchema = meta["$schema"]?.stringValue, let draft = JSONSchemaDraft(schemaURI: metaSchema) {
                result.0 = draft
            }
            if case .object(let vocabulary)? = meta["$vocabulary"] {
                var set: Vocabularies = [.core]
                for (vocabularyURI, _) in vocabulary {
                    if let known = Vocabularies(uri: vocabularyURI) { set.insert(known) }
                }
                result.1 = set
            }
        }
        dialects[uri] = result
        return result
    }

    /// The scope in effect at `location`, found by walking from its document's root.
    mutating func scope(at location: SchemaLocation) -> CompileScope {
        var value = documents[location.document]
        var current = SchemaLocation(document: location.document, pointer: [])
        var scope = enter(value, at: current, from: rootScope(uri: documentURIs[location.document]))
        enum Position { case schema, schemaMap, schemaArray, data }
        var position = Position.schema
        for token in location.pointer {
            guard let next = JSONPointer(tokens: [token]).resolve(in: value) else { break }
            current.pointer.append(token)
            switch position {
            case .schema:
                if SubschemaKeywords.maps.contains(token) {
                    position = .schemaMap
                } else if SubschemaKeywords.arrays.contains(token), case .array = next {
                    position = .schemaArray
                } else if SubschemaKeywords.single.contains(token) {
                    position = .schema
                } else {
                    position = .data
                }
            case .schemaMap, .schemaArray:
                position = .schema
            case .data:
                break
            }
            value = next
            if position == .schema { scope = enter(value, at: current, from: scope) }
        }
        return scope
    }

    /// Why a `$ref` has no target.
    enum ReferenceFailure: Error {
        /// No document loaded has the reference's URI.
        case unknownDocument
        /// The document has no such JSON Pointer or anchor.
        case missingTarget
    }

    /// The one `$ref` resolver, shared by the validator (`SchemaCompiler`) and lint's schema
    /// shapes (`SchemaReferences`): where an absolute reference (`URI#fragment`, already
    /// resolved against the base URI in scope) points in the documents loaded: a resource's
    /// root, a JSON Pointer below it (percent-decoded), or an anchor of that resource.
    func locate(_ absolute: String) -> Result<SchemaLocation, ReferenceFailure> {
        let (uri, fragment) = URIReference.split(absolute)
        return locate(uri: uri, fragment: fragment)
    }

    /// `locate` for a reference already split into its URI (no fragment) and its fragment.
    func locate(uri: String, fragment: String) -> Result<SchemaLocation, ReferenceFailure> {
        guard let resourceRoot = resources[uri] else { return .failure(.unknownDocument) }
        if fragment.isEmpty { return .success(resourceRoot) }
        if fragment.hasPrefix("/") {
            guard let pointer = JSONPointer(percentDecoded(fragment)) else { return .failure(.missingTarget) }
            let target = SchemaLocation(document: resourceRoot.document, pointer: resourceRoot.pointer + pointer.tokens)
            return value(at: target) == nil ? .failure(.missingTarget) : .success(target)
        }
        guard let target = anchors[uri + "#" + percentDecoded(fragment)] else { return .failure(.missingTarget) }
        return .success(target)
    }

    /// `value`, the subschema at `location` whose surrounding scope is `outer`, with every
    /// `$ref` in it made absolute against the base URI in scope where it is written (`$id`s
    /// change it), so that a `$ref` keeps its meaning wherever the schema is copied or merged.
    mutating func absolutizingReferences(in value: JSONValue, at location: SchemaLocation, scope outer: CompileScope) -> JSONValue {
        guard case .object(var object) = value else { return value }
        let scope = enter(value, at: location, from: outer)
        if let reference = object["$ref"]?.stringValue {
            object["$ref"] = .string(URIReference.resolve(reference, against: scope.base))
        }
        func child(_ member: JSONValue, _ tokens: String...) -> JSONValue {
            let at = SchemaLocation(document: location.document, pointer: location.pointer + tokens)
            return absolutizingReferences(in: member, at: at, scope: scope)
        }
        for (key, member) in object {
            if SubschemaKeywords.single.contains(key), SubschemaKeywords.isSchema(member) {
                object[key] = child(member, key)
            } else if SubschemaKeywords.arrays.contains(key), case .array(let elements) = member {
                object[key] = .array(elements.enumerated().map { i, element in
                    SubschemaKeywords.isSchema(element) ? child(element, key, String(i)) : element
                })
            } else if SubschemaKeywords.maps.contains(key), case .object(var members) = member {
                for (name, schema) in members where SubschemaKeywords.isSchema(schema) {
                    members[name] = child(schema, key, name)
                }
                object[key] = .object(members)
            }
        }
        return .object(object)
    }

    private mutating func indexSubschemas(of value: JSONValue, at location: SchemaLocation, scope: CompileScope) {
        guard case .object(let object) = value else { return }
        let resourceURI = scope.base
        if location.pointer.isEmpty || object["$id"] != nil, resources[resourceURI] == nil {
            resources[resourceURI] = location
        }
        if scope.draft.isLegacy {
            if object["$ref"] == nil, let id = object["$id"]?.stringValue, id.contains("#") {
                let fragment = URIReference.split(id).fragment
                if !fragment.isEmpty { anchors[resourceURI + "#" + fragment] = location }
            }
        } else {
            if let anchor = object["$anchor"]?.stringValue {
                anchors[resourceURI + "#" + anchor] = location
            }
            if scope.draft == .draft2020_12, let anchor = object["$dynamicAnchor"]?.stringValue {
                anchors[resourceURI + "#" + anchor] = location
                dynamicAnchors[resourceURI, default: [:]][anchor] = location
            }
        }
        for (tokens, child) in SubschemaKeywords.children(of: object) {
            let childLocation = SchemaLocation(document: location.document, pointer: location.pointer + tokens)
            let childScope = enter(child, at: childLocation, from: scope)
            indexSubschemas(of: child, at: childLocation, scope: childScope)
        }
    }
}
