/// Checks that a value is a usable JSON Schema (draft 2020-12, or draft-07 by `$schema`).
enum SchemaValidity {
    struct Problem {
        var pointer: JSONPointer
        var message: String
        var hint: String?
    }

    static let supportedDrafts = [
        "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema",
    ]

    /// Results by schema: linting many specs that share schema files checks each once.
    private static let cache = Locked<[JSONValue: [Problem]]>([:])

    static func problems(in schema: JSONValue) -> [Problem] {
        if let known = cache.withLock({ $0[schema] }) { return known }
        let found = check(schema)
        cache.withLock { $0[schema] = found }
        return found
    }

    private static func check(_ schema: JSONValue) -> [Problem] {
        var problems: [Problem] = []
        if case .object(let object) = schema, let declared = object["$schema"]?.stringValue {
            let normalized = declared.hasSuffix("#") ? String(declared.dropLast()) : declared
            if !supportedDrafts.contains(normalized) {
                problems.append(
                    Problem(
                        pointer: JSONPointer(tokens: ["$schema"]), message: "unsupported `$schema` \(declared)",
                        hint: "use draft 2020-12 (the default: omit `$schema`) or draft-07"))
                return problems
            }
        }
        structuralProblems(schema, at: JSONPointer(), into: &problems)
        if !problems.isEmpty { return problems }
        for error in JSONSchema.metaSchemaErrors(for: schema) {
            problems.append(Problem(pointer: JSONPointer(error.instanceLocation) ?? JSONPointer(), message: error.message))
        }
        if problems.isEmpty {
            do {
                _ = try JSONSchema(compiling: schema)
            } catch {
                problems.append(Problem(pointer: JSONPointer(error.location) ?? JSONPointer(), message: error.message))
            }
        }
        return problems
    }

    /// The common mistakes in the keywords that shape values (types, properties, items),
    /// said plainly and with suggestions, before the meta-schema's more general errors.
    private static func structuralProblems(_ schema: JSONValue, at pointer: JSONPointer, into problems: inout [Problem]) {
        switch schema {
        case .bool: return
        case .object(let object):
            let types = ["null", "boolean", "object", "array", "number", "string", "integer"]
            switch object["type"] {
            case .string(let type) where !types.contains(type):
                problems.append(Problem(pointer: pointer.appending("type"), message: "unknown type `\(type)`",
                    hint: Suggestions.hint(for: type, in: types, kind: "types")))
            case .array(let list):
                for (i, item) in list.enumerated() where !(item.stringValue.map(types.contains) ?? false) {
                    problems.append(Problem(pointer: pointer.appending("type").appending(String(i)), message: "unknown type `\(item)`"))
                }
            case .some(let other) where other.stringValue == nil:
                problems.append(Problem(pointer: pointer.appending("type"), message: "`type` must be a string or a list of strings"))
            default: break
            }
            if let required = object["required"], !(required.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false) {
                problems.append(Problem(pointer: pointer.appending("required"), message: "`required` must be a list of property names"))
            }
            for key in ["properties", "patternProperties", "$defs", "definitions"] {
                guard let value = object[key] else { continue }
                guard case .object(let members) = value else {
                    problems.append(Problem(pointer: pointer.appending(key), message: "`\(key)` must be an object of schemas"))
                    continue
                }
                for (name, member) in members { structuralProblems(member, at: pointer.appending(key).appending(name), into: &problems) }
            }
            for key in ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"] {
                if let value = object[key], value.arrayValue == nil || key != "items" {
                    structuralProblems(value, at: pointer.appending(key), into: &problems)
                }
            }
            for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
                guard let value = object[key] else { continue }
                guard let list = value.arrayValue, !list.isEmpty else {
                    problems.append(Problem(pointer: pointer.appending(key), message: "`\(key)` must be a non-empty list of schemas"))
                    continue
                }
                for (i, member) in list.enumerated() { structuralProblems(member, at: pointer.appending(key).appending(String(i)), into: &problems) }
            }
        default:
            problems.append(Problem(pointer: pointer, message: "a schema must be an object or a boolean, found \(schema.typeName)"))
        }
    }
}
