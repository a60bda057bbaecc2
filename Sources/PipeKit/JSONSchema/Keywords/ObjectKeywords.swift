/// maxProperties, minProperties, required, dependentRequired, properties, patternProperties,
/// additionalProperties, propertyNames, dependentSchemas.
extension Evaluator {
    mutating func checkObject(_ keyword: Keyword, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .object(let object) = instance else { return true }
        switch keyword {
        case .maxProperties(let limit):
            return checkCount(object.count, atMost: limit, Self.propertyCount, name)
        case .minProperties(let limit):
            return checkCount(object.count, atLeast: limit, Self.propertyCount, name)
        case .required(let names):
            var valid = true
            for required in names where object.position(of: required) == nil {
                valid = false
                if !collecting { return false }
                report(name, "missing required property \(required.jsonQuoted)")
            }
            return valid
        case .dependentRequired(let entries):
            var valid = true
            for (trigger, names) in entries where object.position(of: trigger) != nil {
                for required in names where object.position(of: required) == nil {
                    valid = false
                    if !collecting { return false }
                    report(name, "missing property \(required.jsonQuoted), required when \(trigger.jsonQuoted) is present")
                }
            }
            return valid
        case .properties(let names, let nodes, let lookup):
            return checkProperties(object, names, nodes, lookup, name, &annotations)
        case .patternProperties(let entries):
            var valid = true
            for (key, value) in object {
                for (regex, node) in entries where matches(regex, key, keyword: name) {
                    if tracksAnnotations { annotations.properties.insert(key) }
                    if !validateChild(node, value, instanceToken: .key(key), path: .key(name), .key(regex.source)) {
                        valid = false
                        if !collecting || isFull { return false }
                    }
                }
            }
            return valid
        case .additionalProperties(let node, let isFalse, let known, let patterns):
            var valid = true
            let keys = object.keys
            for position in keys.indices {
                let key = keys[position]
                if known.contains(key) || patterns.contains(where: { matches($0, key, keyword: name) }) { continue }
                if halted != nil { return false }
                let value = object.values[position]
                if tracksAnnotations { annotations.properties.insert(key) }
                guard checkLeftOver(value, at: .key(key), node, isFalse, name, valid: &valid, notAllowed: { evaluator in
                    "property \(key.jsonQuoted) is not allowed\(evaluator.allowedList(known, patterns))"
                }) else { return false }
            }
            return valid
        case .propertyNames(let node):
            var valid = true
            for key in object.keys {
                if elementSilently(node, .string(key)) { continue }
                valid = false
                if !collecting { return false }
                let why = explainsSubschemas ? errors(of: node, .string(key), path: [.key(name)], limit: 1).first?.message : nil
                report(name, "property name \(key.jsonQuoted) is invalid: \(why ?? "does not match the propertyNames schema")")
            }
            return valid
        case .dependentSchemas(let entries):
            var valid = true
            for (trigger, node) in entries where object.position(of: trigger) != nil {
                if !validateInPlace(node, instance, &annotations, path: .key(name), .key(trigger)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
            return valid
        default:
            return true
        }
    }

    private static func propertyCount(_ n: Int) -> String { n == 1 ? "1 property" : "\(n) properties" }

    private mutating func checkProperties(_ object: JSONObject, _ names: [String], _ nodes: [Int], _ lookup: [String: Int], _ name: String, _ annotations: inout Annotations) -> Bool {
        var valid = true
        // Walk whichever side is smaller.
        if object.count <= names.count {
            let keys = object.keys, values = object.values
            let scan = names.count <= 16  // comparing a few short strings beats hashing
            for position in keys.indices {
                let key = keys[position]
                guard let i = scan ? names.firstIndex(of: key) : lookup[key] else { continue }
                if tracksAnnotations { annotations.properties.insert(key) }
                if !validateChild(nodes[i], values[position], instanceToken: .key(key), path: .key(name), .key(key)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
        } else {
            for (i, key) in names.enumerated() {
                guard let value = object[key] else { continue }
                if tracksAnnotations { annotations.properties.insert(key) }
                if !validateChild(nodes[i], value, instanceToken: .key(key), path: .key(name), .key(key)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
        }
        return valid
    }

    /// ` (allowed: "a", "b")` when the allowed names are few enough to list.
    private func allowedList(_ known: Set<String>, _ patterns: [ECMARegex]) -> String {
        var parts = known.sorted().prefix(20).map(\.jsonQuoted)
        if known.count > 20 { parts.append("…") }
        parts += patterns.map { "names matching \($0.source.jsonQuoted)" }
        return parts.isEmpty ? " (no properties are allowed)" : " (allowed: \(parts.joined(separator: ", ")))"
    }
}
