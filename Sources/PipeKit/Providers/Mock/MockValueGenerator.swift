/// Makes a deterministic value that satisfies a JSON Schema, for the offline mock provider:
/// every property filled, enums and consts honoured, numbers and lengths within bounds.
public struct MockValueGenerator: Sendable {
    let document: JSONValue
    /// Follows the schema's `$ref`s as the validator does.
    let references: SchemaReferences

    public init(schema: JSONValue) {
        references = SchemaReferences(schema)
        document = references.root
    }

    public func value() -> JSONValue {
        generate(document, name: "value", index: 0, depth: 0)
    }

    private func generate(_ schema: JSONValue, name: String, index: Int, depth: Int) -> JSONValue {
        guard depth < 24 else { return .null }
        let options = SchemaShape.expand(schema, references: references, depth: 0)
        guard let first = options.first(where: { $0 != .bool(false) }) else { return .null }
        guard case .object(var object) = first else { return .string("mock \(name)") }
        for key in ["if", "then", "else"] { object[key] = nil }
        var value = generate(object: object, name: name, index: index, depth: depth)
        // `if`/`then`/`else`: apply the branch the value takes, then generate again.
        let conditionals = conditionals(in: schema, depth: 0)
        guard !conditionals.isEmpty else { return value }
        for conditional in conditionals {
            let matches = (try? JSONSchema(compiling: conditional.condition))?.isValid(value) ?? false
            if let branch = matches ? conditional.then : conditional.otherwise, case .object(let extra) = branch {
                object = Self.overlay(object, extra)
            }
        }
        value = generate(object: object, name: name, index: index, depth: depth)
        return value
    }

    private func generate(object: JSONObject, name: String, index: Int, depth: Int) -> JSONValue {
        if let constant = object["const"] { return constant }
        if let values = object["enum"]?.arrayValue, !values.isEmpty { return values[index % values.count] }
        if let examples = object["examples"]?.arrayValue, !examples.isEmpty { return examples[index % examples.count] }
        switch type(of: object) {
        case "object": return generateObject(object, depth: depth)
        case "array": return generateArray(object, name: name, depth: depth)
        case "integer": return .number(number(object, integer: true, index: index))
        case "number": return .number(number(object, integer: false, index: index))
        case "boolean": return .bool(index % 2 == 0)
        case "null": return .null
        default: return .string(string(object, name: name, index: index))
        }
    }

    private struct Conditional {
        var condition: JSONValue
        var then: JSONValue?
        var otherwise: JSONValue?
    }

    /// The `if`/`then`/`else` triples that apply to a value: the schema's own and those of
    /// its `allOf` members and `$ref` targets.
    private func conditionals(in schema: JSONValue, depth: Int) -> [Conditional] {
        guard depth < 8, case .object(let object) = schema else { return [] }
        var found: [Conditional] = []
        if let condition = object["if"] {
            found.append(Conditional(condition: condition, then: object["then"], otherwise: object["else"]))
        }
        for member in object["allOf"]?.arrayValue ?? [] { found += conditionals(in: member, depth: depth + 1) }
        if let ref = object["$ref"]?.stringValue, let target = references.target(of: ref) {
            found += conditionals(in: target, depth: depth + 1)
        }
        return found
    }

    /// `extra`'s keywords over `base`'s, property by property.
    static func overlay(_ base: JSONObject, _ extra: JSONObject) -> JSONObject {
        var result = base
        for (key, value) in extra {
            if key == "properties", case .object(var properties) = result[key] ?? .object([:]), case .object(let more) = value {
                for (name, schema) in more {
                    if case .object(let existing) = properties[name], case .object(let added) = schema {
                        properties[name] = .object(overlay(existing, added))
                    } else {
                        properties[name] = schema
                    }
                }
                result[key] = .object(properties)
            } else {
                result[key] = value
            }
        }
        return result
    }

    private func type(of object: JSONObject) -> String {
        let declared: [String]
        switch object["type"] {
        case .string(let type): declared = [type]
        case .array(let types): declared = types.compactMap(\.stringValue)
        default: declared = SchemaShape.types(of: .object(object)) ?? ["string"]
        }
        return declared.first { $0 != "null" } ?? declared.first ?? "string"
    }

    private func generateObject(_ object: JSONObject, depth: Int) -> JSONValue {
        var result = JSONObject()
        if let properties = object["properties"]?.objectValue {
            for (key, subschema) in properties {
                result[key] = generate(subschema, name: key, index: 0, depth: depth + 1)
            }
        }
        for key in object["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where result[key] == nil {
            let subschema = object["additionalProperties"].flatMap { $0.objectValue != nil ? $0 : nil } ?? .bool(true)
            result[key] = generate(subschema, name: key, index: 0, depth: depth + 1)
        }
        return .object(result)
    }

    private func generateArray(_ object: JSONObject, name: String, depth: Int) -> JSONValue {
        let prefix = object["prefixItems"]?.arrayValue ?? []
        let minItems = object["minItems"]?.numberValue?.intValue ?? 0
        let maxItems = object["maxItems"]?.numberValue?.intValue ?? Int.max
        let items = object["items"]
        let rest = items == .bool(false) ? 0 : 2
        let count = min(maxItems, max(minItems, prefix.count + rest, prefix.isEmpty ? 2 : prefix.count))
        var values: [JSONValue] = []
        for i in 0..<count {
            let subschema = i < prefix.count ? prefix[i] : (items ?? .bool(true))
            values.append(generate(subschema, name: singular(name), index: i, depth: depth + 1))
        }
        return .array(values)
    }

    private func number(_ object: JSONObject, integer: Bool, index: Int) -> JSONNumber {
        let minimum = object["minimum"]?.numberValue?.doubleValue
        let maximum = object["maximum"]?.numberValue?.doubleValue
        let exclusiveMinimum = object["exclusiveMinimum"]?.numberValue?.doubleValue
        let exclusiveMaximum = object["exclusiveMaximum"]?.numberValue?.doubleValue
        var low = minimum ?? exclusiveMinimum.map { $0 + (integer ? 1 : 0.5) } ?? -Double.infinity
        let high = maximum ?? exclusiveMaximum.map { $0 - (integer ? 1 : 0.5) } ?? Double.infinity
        if integer { low = low.rounded(.up) }
        var value = low.isFinite ? low : min(high, Double(index + 1) * (integer ? 1 : 1.5))
        if low.isFinite, high.isFinite, high > low { value = integer ? ((low + high) / 2).rounded(.down) : (low + high) / 2 }
        if let step = object["multipleOf"]?.numberValue?.doubleValue, step > 0 {
            value = (value / step).rounded(.up) * step
        }
        if integer || value == value.rounded() { return JSONNumber(Int(value)) }
        return JSONNumber(value)
    }

    private func string(_ object: JSONObject, name: String, index: Int) -> String {
        let suffix = index > 0 ? " \(index + 1)" : ""
        var text: String
        switch object["format"]?.stringValue {
        case "date-time": text = "2026-01-0\(index % 9 + 1)T09:00:00Z"
        case "date": text = "2026-01-0\(index % 9 + 1)"
        case "time": text = "09:00:00Z"
        case "email": text = "person\(index + 1)@example.com"
        case "uri", "url", "iri": text = "https://example.com/\(name)/\(index + 1)"
        case "uuid": text = "00000000-0000-4000-8000-\(String(repeating: "0", count: 11))\(index % 10)"
        case "hostname": text = "host\(index + 1).example.com"
        case "ipv4": text = "192.0.2.\(index % 250 + 1)"
        case "ipv6": text = "2001:db8::\(index % 9 + 1)"
        default:
            text = object["pattern"]?.stringValue.flatMap(PatternExample.example(for:))
                ?? "mock \(name.replacingUnderscores)\(suffix)"
        }
        let minLength = object["minLength"]?.numberValue?.intValue ?? 0
        let maxLength = object["maxLength"]?.numberValue?.intValue ?? Int.max
        while text.count < minLength { text += " mock" }
        if text.count > maxLength { text = String(text.prefix(maxLength)) }
        return text
    }

    private func singular(_ name: String) -> String {
        name.hasSuffix("s") && name.count > 3 ? String(name.dropLast()) : name
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" || $0 == "-" ? " " : $0 }) }
}
