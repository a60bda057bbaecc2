import Foundation

/// A small JSON value that matches a JSON Schema: what the default handler answers
/// when a request asks for structured output. Handles the common keywords (`type`,
/// `properties`/`required`, `items`/`minItems`, `enum`, `const`, `minLength`,
/// `minimum`, `anyOf`/`oneOf`/`allOf`); anything else gets a best effort.
enum SchemaExample {
    /// A matching value of a schema (parsed by `JSONSerialization`), as JSON text.
    static func text(of schema: Any) -> String {
        JSON.text(instance(of: schema, depth: 0))
    }

    static func instance(of schema: Any, depth: Int) -> Any {
        guard let schema = schema as? [String: Any], depth < 16 else { return [String: Any]() }
        if let value = schema["const"] { return value }
        if let values = schema["enum"] as? [Any], let first = values.first { return first }
        for key in ["anyOf", "oneOf"] {
            if let options = schema[key] as? [Any], let first = options.first { return instance(of: first, depth: depth + 1) }
        }
        if let parts = schema["allOf"] as? [[String: Any]] {
            var merged = schema
            merged["allOf"] = nil
            for part in parts { merged.merge(part) { current, _ in current } }
            return instance(of: merged, depth: depth + 1)
        }
        var type = schema["type"] as? String ?? (schema["type"] as? [String])?.first { $0 != "null" }
        if type == nil { type = schema["properties"] != nil ? "object" : schema["items"] != nil ? "array" : "string" }
        switch type {
        case "object":
            var object: [String: Any] = [:]
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] {
                object[name] = properties[name].map { instance(of: $0, depth: depth + 1) } ?? "x"
            }
            return object
        case "array":
            let count = schema["minItems"] as? Int ?? 1
            let item = schema["items"].map { instance(of: $0, depth: depth + 1) } ?? "x"
            return Array(repeating: item, count: max(count, 1))
        case "integer":
            return (schema["minimum"] as? Int) ?? (schema["exclusiveMinimum"] as? Int).map { $0 + 1 } ?? 1
        case "number":
            return (schema["minimum"] as? Double) ?? (schema["exclusiveMinimum"] as? Double).map { $0 + 1 } ?? 1
        case "boolean":
            return true
        case "null":
            return NSNull()
        default:
            let length = schema["minLength"] as? Int ?? 1
            return String(repeating: "x", count: max(length, 1))
        }
    }
}
