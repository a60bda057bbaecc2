/// allOf, anyOf, oneOf, not, if/then/else.
extension Evaluator {
    mutating func checkCombinator(_ keyword: Keyword, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        switch keyword {
        case .allOf(let nodes):
            var valid = true
            for (i, node) in nodes.enumerated() {
                if !validateInPlace(node, instance, &annotations, path: .key(name), .index(i)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
            return valid
        case .anyOf(let nodes):
            var matched = false
            for node in nodes {
                if silently(node, instance, &annotations) {
                    matched = true
                    if !tracksAnnotations { return true }
                }
            }
            if !matched && collecting {
                report(name, "does not match any of the \(nodes.count) alternatives in anyOf\(alternativesSummary(nodes, instance, name))")
            }
            return matched
        case .oneOf(let nodes):
            var matches: [Int] = []
            var matchedAnnotations = Annotations()
            for (i, node) in nodes.enumerated() {
                var branch = Annotations()
                if silently(node, instance, &branch) {
                    matches.append(i)
                    matchedAnnotations = branch
                    if matches.count > 1 && !collecting { return false }
                }
            }
            if matches.count == 1 {
                if tracksAnnotations { annotations.merge(matchedAnnotations) }
                return true
            }
            if collecting {
                if matches.isEmpty {
                    report(name, "does not match any of the \(nodes.count) alternatives in oneOf\(alternativesSummary(nodes, instance, name))")
                } else {
                    report(name, "matches \(matches.count) alternatives in oneOf (\(matches.map(String.init).joined(separator: ", "))), exactly one is allowed")
                }
            }
            return false
        case .not(let node):
            var ignored = Annotations()
            if !silently(node, instance, &ignored) { return true }
            report(name, "must not match the schema in not, got \(renderForMessage(instance, limit: 40))")
            return false
        case .conditional(let condition, let then, let otherwise):
            var conditionAnnotations = Annotations()
            if silently(condition, instance, &conditionAnnotations) {
                if tracksAnnotations { annotations.merge(conditionAnnotations) }
                guard let then else { return true }
                return validateInPlace(then, instance, &annotations, path: .key("then"))
            }
            guard let otherwise else { return true }
            return validateInPlace(otherwise, instance, &annotations, path: .key("else"))
        default:
            return true
        }
    }

    /// `: (0) expected string, got number 5; (1) expected null, got number 5`: the first error of
    /// each alternative, so a reader (or a model) sees every way to fix the value.
    private mutating func alternativesSummary(_ nodes: [Int], _ instance: JSONValue, _ name: String) -> String {
        guard explainsSubschemas else { return "" }
        var parts: [String] = []
        for (i, node) in nodes.enumerated().prefix(8) {
            guard let first = errors(of: node, instance, path: [.key(name), .index(i)], limit: 1).first else { continue }
            let at = first.instanceLocation == pointer(instancePath) ? "" : " at \(first.instanceLocation)"
            parts.append("(\(i))\(at) \(first.message)")
        }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: "; ")
    }
}
