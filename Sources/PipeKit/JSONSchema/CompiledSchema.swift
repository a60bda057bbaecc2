/// The compiled form of a schema: a flat table of nodes that point at each other by index,
/// so that recursive schemas (`$ref: "#"`) are plain cycles of integers.
struct CompiledSchema: Sendable {
    var nodes: [SchemaNode] = []
    var resources: [SchemaResource] = []
    /// True when some node uses unevaluatedProperties/unevaluatedItems, so evaluation must
    /// track which properties and items were evaluated.
    var tracksAnnotations = false
}

/// One subschema.
struct SchemaNode: Sendable {
    /// The keywords to check, in evaluation order (`unevaluated*` last).
    var keywords: [CompiledKeyword] = []
    /// The schema resource (`$id` scope) this node belongs to; used for `$dynamicRef`.
    var resource: Int = 0
}

/// A schema resource: a subtree with its own base URI.
struct SchemaResource: Sendable {
    var uri: String
    /// `$dynamicAnchor` name → node.
    var dynamicAnchors: [String: Int] = [:]
}

/// A keyword with its name as it appears in keyword locations. A class, so that walking a
/// node's keywords costs one reference count per keyword rather than a copy of its payload.
final class CompiledKeyword: Sendable {
    let name: String
    let check: Keyword

    init(name: String, check: Keyword) {
        self.name = name
        self.check = check
    }
}

/// The JSON types, as a bit set (`integer` is a subset of `number`).
struct JSONTypeSet: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let null = JSONTypeSet(rawValue: 1)
    static let boolean = JSONTypeSet(rawValue: 2)
    static let integer = JSONTypeSet(rawValue: 4)
    static let number = JSONTypeSet(rawValue: 8)
    static let string = JSONTypeSet(rawValue: 16)
    static let array = JSONTypeSet(rawValue: 32)
    static let object = JSONTypeSet(rawValue: 64)

    static let names: [(String, JSONTypeSet)] = [
        ("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number),
        ("string", .string), ("array", .array), ("object", .object),
    ]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init?(name: String) {
        guard let entry = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = entry.1
    }

    func contains(typeOf value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .number(let n): return contains(.number) || (contains(.integer) && n.isInteger)
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }

}

/// A compiled keyword. Child schemas are node indices into `CompiledSchema.nodes`.
enum Keyword: Sendable {
    /// The `false` schema.
    case alwaysFail
    /// `expected` is the types as the schema lists them, for messages ("string or null").
    case type(JSONTypeSet, expected: String)
    case enumeration([JSONValue])
    case const(JSONValue)

    case multipleOf(JSONNumber)
    case maximum(JSONNumber)
    case exclusiveMaximum(JSONNumber)
    case minimum(JSONNumber)
    case exclusiveMinimum(JSONNumber)

    case maxLength(Int)
    case minLength(Int)
    case pattern(ECMARegex)
    case format(name: String, check: @Sendable (String) -> Bool)

    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case contains(node: Int, min: Int, max: Int?)
    /// Items from index `from` on (2020-12 `items`, draft-07 `additionalItems` or single-schema `items`).
    case items(node: Int, from: Int, isFalse: Bool)
    /// Positional item schemas (`prefixItems`, draft-07 array `items`).
    case prefixItems([Int])
    case unevaluatedItems(node: Int, isFalse: Bool)

    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case dependentRequired([(String, [String])])
    case properties(names: [String], nodes: [Int], lookup: [String: Int])
    case patternProperties([(ECMARegex, Int)])
    case additionalProperties(node: Int, isFalse: Bool, known: Set<String>, patterns: [ECMARegex])
    case propertyNames(Int)
    case dependentSchemas([(String, Int)])
    case unevaluatedProperties(node: Int, isFalse: Bool)

    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case ref(Int)
    /// `$dynamicRef`: `initial` is the statically resolved target; when `anchor` is set the
    /// target is looked up in the dynamic scope, outermost resource first.
    case dynamicRef(initial: Int, anchor: String?)
}
