/// unevaluatedProperties, unevaluatedItems: apply to what no other keyword (in this schema,
/// its in-place subschemas and `$ref`s) evaluated successfully.
extension Evaluator {
    mutating func checkUnevaluatedProperties(_ node: Int, _ isFalse: Bool, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (key, value) in object where !annotations.isEvaluated(property: key) {
            if isFalse {
                valid = false
                if !collecting { return false }
                report(name, "property \(key.jsonQuoted) is not allowed (not declared by the schema)")
            } else if !validateChild(node, value, instanceToken: .key(key), path: .key(name)) {
                valid = false
                if !collecting || isFull { return false }
            }
        }
        if valid { annotations.allProperties = true }
        return valid
    }

    mutating func checkUnevaluatedItems(_ node: Int, _ isFalse: Bool, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .array(let items) = instance else { return true }
        var valid = true
        for (i, item) in items.enumerated() where !annotations.isEvaluated(item: i) {
            if isFalse {
                valid = false
                if !collecting { return false }
                report(name, "item \(i) is not allowed (not declared by the schema), got \(describe(item))")
            } else if !validateChild(node, item, instanceToken: .index(i), path: .key(name)) {
                valid = false
                if !collecting || isFull { return false }
            }
        }
        if valid { annotations.allItems = true }
        return valid
    }
}
