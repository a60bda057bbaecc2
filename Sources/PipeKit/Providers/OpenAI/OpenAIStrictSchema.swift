/// Whether a JSON Schema fits the subset OpenAI's Structured Outputs accept with
/// `strict: true`, and if not, the first reason why.
///
/// The subset: an object at the root (not a union); every schema says what it is (`type`,
/// `anyOf`, `$ref`, `enum` or `const`); every object has `additionalProperties: false` and
/// lists all its properties in `required`; only the keywords below; the string formats
/// below; `$ref` only to `#`, `#/$defs/...` or `#/definitions/...`; at most 10 levels of
/// nesting, 5000 properties and 1000 enum values in all. Anything else is sent in JSON
/// mode instead (the local validation runs either way).
public enum OpenAIStrictSchema {
    static let allowedKeywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "anyOf", "$defs", "definitions", "$ref",
        "enum", "const", "description", "title",
        "pattern", "format",
        "multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minItems", "maxItems",
    ]
    static let allowedTypes: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]
    static let allowedFormats: Set<String> = ["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]
    static let maxDepth = 10
    static let maxProperties = 5000
    static let maxEnumValues = 1000

    public static func fits(_ schema: JSONValue) -> Bool { problem(in: schema) == nil }

    /// Why `schema` does not fit strict mode, or nil when it does.
    public static func problem(in schema: JSONValue) -> String? {
        guard schema["type"]?.stringValue == "object", schema["anyOf"] == nil else {
            return "the root is not an object"
        }
        var checker = Checker()
        checker.check(schema, at: "#", depth: 1)
        return checker.problem
    }

    private struct Checker {
        var problem: String?
        var properties = 0
        var enumValues = 0

        mutating func fail(_ message: String) {
            if problem == nil { problem = message }
        }

        mutating func check(_ schema: JSONValue, at path: String, depth: Int) {
            guard problem == nil else { return }
            guard depth <= OpenAIStrictSchema.maxDepth else { return fail("\(path): nested deeper than \(OpenAIStrictSchema.maxDepth) levels") }
            guard let object = schema.objectValue else { return fail("\(path): a boolean schema") }
            if let keyword = object.keys.first(where: { !OpenAIStrictSchema.allowedKeywords.contains($0) }) {
                return fail("\(path): `\(keyword)` is not supported")
            }
            guard object["type"] != nil || object["anyOf"] != nil || object["$ref"] != nil || object["enum"] != nil || object["const"] != nil else {
                return fail("\(path): no `type`")
            }
            let types: [String]
            switch object["type"] {
            case nil: types = []
            case .string(let type)?: types = [type]
            case .array(let list)?: types = list.compactMap(\.stringValue)
                if types.count != list.count { return fail("\(path): `type` is not a list of names") }
            default: return fail("\(path): `type` is not a name")
            }
            if let unknown = types.first(where: { !OpenAIStrictSchema.allowedTypes.contains($0) }) {
                return fail("\(path): unknown type `\(unknown)`")
            }
            if let format = object["format"] {
                guard let name = format.stringValue, OpenAIStrictSchema.allowedFormats.contains(name) else {
                    return fail("\(path): format \(format) is not supported")
                }
            }
            if let ref = object["$ref"] {
                guard let target = ref.stringValue, target == "#" || target.hasPrefix("#/$defs/") || target.hasPrefix("#/definitions/") else {
                    return fail("\(path): `$ref` must point into `$defs`")
                }
            }
            if let values = object["enum"] {
                guard let list = values.arrayValue else { return fail("\(path): `enum` is not a list") }
                enumValues += list.count
                if enumValues > OpenAIStrictSchema.maxEnumValues { return fail("more than \(OpenAIStrictSchema.maxEnumValues) enum values") }
            }
            if types.contains("object") || object["properties"] != nil {
                checkObject(object, at: path, depth: depth)
            }
            if let items = object["items"] {
                check(items, at: path + "/items", depth: depth + 1)
            }
            if let anyOf = object["anyOf"] {
                guard let list = anyOf.arrayValue, !list.isEmpty else { return fail("\(path): `anyOf` is not a list of schemas") }
                for (index, member) in list.enumerated() { check(member, at: "\(path)/anyOf/\(index)", depth: depth + 1) }
            }
            for keyword in ["$defs", "definitions"] {
                guard let definitions = object[keyword] else { continue }
                guard let members = definitions.objectValue else { return fail("\(path): `\(keyword)` is not an object") }
                for (name, member) in members { check(member, at: "\(path)/\(keyword)/\(name)", depth: 1) }
            }
        }

        private mutating func checkObject(_ object: JSONObject, at path: String, depth: Int) {
            guard object["additionalProperties"] == false else {
                return fail("\(path): an object without `additionalProperties: false`")
            }
            let members = object["properties"]?.objectValue ?? JSONObject()
            if object["properties"] != nil, object["properties"]?.objectValue == nil {
                return fail("\(path): `properties` is not an object")
            }
            let required = Set((object["required"]?.arrayValue ?? []).compactMap(\.stringValue))
            if let optional = members.keys.first(where: { !required.contains($0) }) {
                return fail("\(path): property `\(optional)` is not in `required`")
            }
            if let unknown = required.first(where: { members[$0] == nil }) {
                return fail("\(path): `required` names `\(unknown)`, which is not a property")
            }
            properties += members.count
            if properties > OpenAIStrictSchema.maxProperties { return fail("more than \(OpenAIStrictSchema.maxProperties) properties") }
            for (name, member) in members { check(member, at: "\(path)/properties/\(name)", depth: depth + 1) }
        }
    }
}
