import Foundation

/// What a reference path can point at, derived statically from a JSON Schema.
///
/// A shape is the set of schemas the value may match: `$ref` is followed (by the validator's
/// resolver: `SchemaReferences`), `allOf` members all apply, and `anyOf`/`oneOf` branches are
/// alternatives (a path is fine if some branch has it). An empty `schemas` list never
/// escapes: a failed step is an error instead.
public struct SchemaShape: Sendable {
    /// The schemas the value matches; `true` means "anything".
    public var schemas: [JSONValue]
    /// The document the schemas live in, for their `$ref`s.
    let references: SchemaReferences

    /// The shape of a value of `schema`.
    public init(_ schema: JSONValue) {
        references = SchemaReferences(schema)
        schemas = SchemaShape.expand(references.root, references: references, depth: 0)
    }

    /// The shape of a list whose items are values of `schema` (a `for_each` stage's value).
    init(listOf schema: JSONValue) {
        references = SchemaReferences(schema)
        schemas = [["type": "array", "items": references.root]]
    }

    private init(schemas: [JSONValue], references: SchemaReferences) {
        self.schemas = schemas
        self.references = references
    }

    /// The shape of a stage without an output schema, or of raw-text input.
    public static let string = SchemaShape(["type": "string"])
    /// The shape of a `for_each` stage without an output schema.
    static let stringList = SchemaShape(listOf: ["type": "string"])

    /// Why a step of a path does not fit the shape.
    public enum StepError: Error, Sendable {
        /// An object that declares no such property; `known` are the properties it has.
        case noSuchField(known: [String])
        /// The value is not an object (for a field) or not an array (for an index).
        case wrongType(found: String)
        /// An array whose schema allows fewer items.
        case indexOutOfRange(count: Int)
    }

    /// The JSON types the value can have, in words for messages ("a string", "an object or null").
    public var typeDescription: String {
        let types = Set(schemas.flatMap { SchemaShape.types(of: $0) ?? [] })
        guard !types.isEmpty else { return "a value of any type" }
        return SchemaShape.typeOrder.filter(types.contains).map(SchemaShape.article).joined(separator: " or ")
    }

    /// The shape of `.name` in this shape.
    public func field(_ name: String) -> Result<SchemaShape, StepError> {
        var found: [JSONValue] = []
        var known: [String] = []
        var couldBeObject = false
        for schema in schemas {
            if SchemaShape.isUnconstrained(schema) { return .success(SchemaShape(schemas: [true], references: references)) }
            guard case .object(let object) = schema else { continue }
            if let types = SchemaShape.types(of: schema), !types.contains("object") { continue }
            couldBeObject = true
            let properties = object["properties"]?.objectValue
            if let property = properties?[name] {
                found += SchemaShape.expand(property, references: references, depth: 0)
                continue
            }
            known += properties?.keys ?? []
            var matchedPattern = false
            if let patterns = object["patternProperties"]?.objectValue {
                for (pattern, subschema) in patterns where SchemaShape.matches(pattern, name) {
                    found += SchemaShape.expand(subschema, references: references, depth: 0)
                    matchedPattern = true
                }
            }
            if matchedPattern { continue }
            switch object["additionalProperties"] {
            case .object(let additional) where !additional.isEmpty:
                found += SchemaShape.expand(.object(additional), references: references, depth: 0)
            case nil, .bool(true), .object:
                // An open object that declares nothing can hold any field.
                if properties == nil && object["patternProperties"] == nil { found.append(true) }
            default:
                break
            }
        }
        if !found.isEmpty { return .success(SchemaShape(schemas: found, references: references)) }
        if !couldBeObject { return .failure(.wrongType(found: typeDescription)) }
        return .failure(.noSuchField(known: Array(NSOrderedSet(array: known)).compactMap { $0 as? String }))
    }

    /// The shape of `[index]` in this shape.
    public func index(_ index: Int) -> Result<SchemaShape, StepError> {
        var found: [JSONValue] = []
        var couldBeArray = false
        var maximum = 0
        for schema in schemas {
            if SchemaShape.isUnconstrained(schema) { return .success(SchemaShape(schemas: [true], references: references)) }
            guard case .object(let object) = schema else { continue }
            if let types = SchemaShape.types(of: schema), !types.contains("array") { continue }
            couldBeArray = true
            // draft 2020-12: prefixItems then items; draft-07: items as an array then additionalItems.
            let prefix = object["prefixItems"]?.arrayValue ?? object["items"]?.arrayValue
            let rest = object["prefixItems"] != nil || object["items"]?.arrayValue == nil
                ? object["items"] : object["additionalItems"]
            if let prefix, index < prefix.count {
                found += SchemaShape.expand(prefix[index], references: references, depth: 0)
                continue
            }
            switch rest {
            case .bool(false):
                maximum = max(maximum, prefix?.count ?? 0)
            case nil:
                found.append(true)
            case .some(let items):
                found += SchemaShape.expand(items, references: references, depth: 0)
            }
            if let maxItems = object["maxItems"]?.numberValue?.intValue, index >= maxItems {
                found.removeAll()
                maximum = max(maximum, maxItems)
            }
        }
        if !found.isEmpty { return .success(SchemaShape(schemas: found, references: references)) }
        if !couldBeArray { return .failure(.wrongType(found: typeDescription)) }
        return .failure(.indexOutOfRange(count: maximum))
    }

    // MARK: Schema reading

    static let typeOrder = ["string", "number", "integer", "boolean", "object", "array", "null"]

    static func article(_ type: String) -> String {
        switch type {
        case "object": "an object"
        case "array": "a list"
        case "integer": "an integer"
        case "null": "null"
        default: "a \(type)"
        }
    }

    /// The keywords that constrain a value's type or shape.
    private static let shaping: Set<String> = [
        "type", "properties", "patternProperties", "additionalProperties", "items", "prefixItems",
        "additionalItems", "const", "enum", "$ref", "allOf", "anyOf", "oneOf",
    ]

    /// `true`, `{}` or a schema with no keyword that constrains the type or the shape.
    static func isUnconstrained(_ schema: JSONValue) -> Bool {
        switch schema {
        case .bool(let value): return value
        case .object(let object):
            return !object.keys.contains(where: shaping.contains)
        default: return false
        }
    }

    /// The types a schema allows, or nil when it does not say.
    static func types(of schema: JSONValue) -> [String]? {
        guard case .object(let object) = schema else { return nil }
        switch object["type"] {
        case .string(let type): return type == "integer" ? ["integer", "number"] : [type]
        case .array(let types): return types.compactMap(\.stringValue).flatMap { $0 == "integer" ? ["integer", "number"] : [$0] }
        default: break
        }
        if let value = object["const"] { return [value.typeName] }
        if let values = object["enum"]?.arrayValue { return Array(Set(values.map(\.typeName))) }
        if object["properties"] != nil || object["required"] != nil || object["additionalProperties"] != nil { return ["object"] }
        if object["items"] != nil || object["prefixItems"] != nil { return ["array"] }
        return nil
    }

    /// Follows `$ref` and flattens `allOf`, `anyOf` and `oneOf` into the list of schemas that
    /// apply: `allOf` members and a `$ref`'s target merge into the schema; `anyOf`/`oneOf`
    /// branches become alternatives.
    static func expand(_ schema: JSONValue, references: SchemaReferences, depth: Int) -> [JSONValue] {
        guard depth < 16, case .object(let object) = schema else { return [schema] }
        var own = object
        for key in ["$ref", "allOf", "anyOf", "oneOf"] { own[key] = nil }
        var alternatives: [JSONValue] = [.object(own)]
        func combine(_ others: [JSONValue]) {
            alternatives = alternatives.flatMap { a in others.compactMap { merge(a, $0) } }.prefix(64).map { $0 }
        }
        if let ref = object["$ref"]?.stringValue {
            // A reference we cannot follow statically (another file, a URL) allows anything.
            guard let target = references.target(of: ref) else { return [true] }
            combine(expand(target, references: references, depth: depth + 1))
        }
        for member in object["allOf"]?.arrayValue ?? [] {
            combine(expand(member, references: references, depth: depth + 1))
        }
        for combinator in ["anyOf", "oneOf"] {
            guard let branches = object[combinator]?.arrayValue else { continue }
            combine(branches.flatMap { expand($0, references: references, depth: depth + 1) })
        }
        return alternatives
    }

    /// Two schemas that both apply, as one (nil when one of them is `false`): properties are
    /// united; for other keywords the first schema's value wins.
    static func merge(_ a: JSONValue, _ b: JSONValue) -> JSONValue? {
        switch (a, b) {
        case (.bool(false), _), (_, .bool(false)): return nil
        case (.bool(true), _): return b
        case (_, .bool(true)): return a
        case (.object(let first), .object(let second)):
            var result = first
            for (key, value) in second {
                if key == "properties", case .object(var properties) = result[key], case .object(let more) = value {
                    for (name, schema) in more where properties[name] == nil { properties[name] = schema }
                    result[key] = .object(properties)
                } else if result[key] == nil {
                    result[key] = value
                }
            }
            return .object(result)
        default: return a
        }
    }

    /// Whether a `patternProperties` pattern matches a property name, with ECMA-262 semantics,
    /// as the validator matches it at run time. An invalid pattern matches nothing (the
    /// schema is reported by `invalid-schema`).
    static func matches(_ pattern: String, _ name: String) -> Bool {
        (try? ECMARegex(pattern))?.matches(name) ?? false
    }
}
