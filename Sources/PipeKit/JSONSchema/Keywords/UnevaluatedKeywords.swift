/// unevaluatedProperties, unevaluatedItems: apply to what no other keyword (in this schema,
/// its in-place subschemas and `$ref`s) evaluated successfully.
extension Evaluator {
    mutating func checkUnevaluatedProperties(_ node: Int, _ isFalse: Bool, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (key, value) in object where !annotations.isEvaluated(property: key) {
            guard checkLeftOver(value, at: .key(key), node, isFalse, name, valid: &valid, notAllowed: { _ in
                "property \(key.jsonQuoted) is not allowed (not declared by the schema)"
            }) else { return false }
        }
        if valid { annotations.allProperties = true }
        return valid
    }

    mutating func checkUnevaluatedItems(_ node: Int, _ isFalse: Bool, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .array(let items) = instance else { return true }
        var valid = true
        for (i, item) in items.enumerated() where !annotations.isEvaluated(item: i) {
            guard checkLeftOver(item, at: .index(i), node, isFalse, name, valid: &valid, notAllowed: { _ in
                "item \(i) is not allowed (not declared by the schema), got \(describe(item))"
            }) else { return false }
        }
        if valid { annotations.allItems = true }
        return valid
    }

    /// A value that only a catch-all subschema applies to (an additional or unevaluated
    /// property or item): `false` does not allow it (`notAllowed` says so), another subschema
    /// must hold for it. A failure clears `valid`; returns false when the check should stop.
    mutating func checkLeftOver(
        _ value: JSONValue, at token: PathToken, _ node: Int, _ isFalse: Bool, _ name: String, valid: inout Bool,
        notAllowed: (Self) -> String
    ) -> Bool {
        if isFalse {
            valid = false
            if !collecting { return false }
            report(name, notAllowed(self))
        } else if !validateChild(node, value, instanceToken: token, path: .key(name)) {
            valid = false
            if !collecting || isFull { return false }
        }
        return true
    }
}
