extension YAMLNode {
    /// The node as a JSON value, with YAML's core schema for plain scalars.
    /// Numbers keep their exact written form (`0.10` stays a decimal, not a Double), whatever
    /// their size: `1e400` is the number a JSON document would hold, not a string.
    public var json: JSONValue {
        switch kind {
        case .sequence(let items):
            return .array(items.map(\.json))
        case .mapping(let pairs):
            var object = JSONObject()
            for pair in pairs { object[pair.key.scalar ?? ""] = pair.value.json }
            return .object(object)
        case .scalar(let text, _):
            switch YAMLScalarValue(self) {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .number(JSONNumber(text) ?? JSONNumber(value))
            case .float(let value):
                if let exact = JSONNumber(text) { return .number(exact) }
                // `.inf` and `.nan` have no JSON form.
                return value.isFinite ? .number(JSONNumber(value)) : .string(text)
            case .string(let value): return .string(value)
            }
        }
    }

    /// The node a JSON Pointer names inside this node (for placing schema problems).
    /// Stops at the deepest node it can reach.
    public func node(at pointer: JSONPointer) -> YAMLNode {
        var node = self
        for token in pointer.tokens {
            switch node.kind {
            case .mapping(let pairs):
                guard let pair = pairs.first(where: { $0.key.scalar == token }) else { return node }
                node = pair.value
            case .sequence(let items):
                guard let index = Int(token), items.indices.contains(index) else { return node }
                node = items[index]
            case .scalar:
                return node
            }
        }
        return node
    }
}
