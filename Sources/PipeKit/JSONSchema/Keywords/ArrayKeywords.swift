/// maxItems, minItems, uniqueItems, contains (with minContains/maxContains), prefixItems, items.
extension Evaluator {
    mutating func checkArray(_ keyword: Keyword, _ instance: JSONValue, _ name: String, _ annotations: inout Annotations) -> Bool {
        guard case .array(let items) = instance else { return true }
        switch keyword {
        case .maxItems(let limit):
            return checkCount(items.count, atMost: limit, Self.itemCount, name)
        case .minItems(let limit):
            return checkCount(items.count, atLeast: limit, Self.itemCount, name)
        case .uniqueItems:
            return checkUnique(items, name)
        case .contains(let node, let minimum, let maximum):
            return checkContains(items, node, minimum, maximum, name, &annotations)
        case .prefixItems(let nodes):
            var valid = true
            for (i, node) in nodes.enumerated() where i < items.count {
                if !validateChild(node, items[i], instanceToken: .index(i), path: .key(name), .index(i)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
            if tracksAnnotations { annotations.itemPrefix = max(annotations.itemPrefix, min(nodes.count, items.count)) }
            return valid
        case .items(let node, let start, let isFalse):
            guard items.count > start else { return true }
            if isFalse {
                let what = start == 0 ? "no items are allowed" : "at most \(start) allowed (\(name) is false)"
                report(name, "\(Self.itemCount(items.count)), \(what)")
                return false
            }
            var valid = true
            for i in start..<items.count {
                if !validateChild(node, items[i], instanceToken: .index(i), path: .key(name)) {
                    valid = false
                    if !collecting || isFull { return false }
                }
            }
            if tracksAnnotations { annotations.allItems = true }
            return valid
        default:
            return true
        }
    }

    private static func itemCount(_ n: Int) -> String { n == 1 ? "1 item" : "\(n) items" }

    private mutating func checkUnique(_ items: [JSONValue], _ name: String) -> Bool {
        guard items.count > 1 else { return true }
        if items.count <= 16 {
            for i in 1..<items.count {
                for j in 0..<i where items[i] == items[j] {
                    report(name, "items \(j) and \(i) are equal (\(renderForMessage(items[i], limit: 40))), items must be unique")
                    return false
                }
            }
            return true
        }
        var seen: [JSONValue: Int] = [:]
        seen.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            if let first = seen[item] {
                report(name, "items \(first) and \(i) are equal (\(renderForMessage(item, limit: 40))), items must be unique")
                return false
            }
            seen[item] = i
        }
        return true
    }

    private mutating func checkContains(_ items: [JSONValue], _ node: Int, _ minimum: Int, _ maximum: Int?, _ name: String, _ annotations: inout Annotations) -> Bool {
        var matches = 0
        var matched: [Int] = []
        for (i, item) in items.enumerated() {
            if elementSilently(node, item) {
                matches += 1
                if tracksAnnotations { matched.append(i) }
                // Without annotations to collect, stop as soon as the answer is known.
                if !tracksAnnotations, matches >= minimum, maximum == nil { break }
            }
        }
        if tracksAnnotations {
            if matches == items.count { annotations.allItems = true } else { annotations.items.formUnion(matched) }
        }
        if matches < minimum {
            if matches == 0 {
                let detail = firstErrorSummary(node, items.first, name)
                report(name, minimum == 1 ? "no item matches the contains schema\(detail)" : "no item matches the contains schema, at least \(minimum) required\(detail)")
            } else {
                report(name, "\(matches) items match the contains schema, at least \(minimum) required")
            }
            return false
        }
        if let maximum, matches > maximum {
            report(name, "\(matches) items match the contains schema, at most \(maximum) allowed")
            return false
        }
        return true
    }

    /// ` (item 0: expected string, got number 1)`: why the first item failed, for context.
    private mutating func firstErrorSummary(_ node: Int, _ item: JSONValue?, _ name: String) -> String {
        guard collecting, explainsSubschemas, let item else { return "" }
        instancePath.append(.index(0))
        let found = errors(of: node, item, path: [.key(name)], limit: 1)
        instancePath.removeLast()
        guard let first = found.first else { return "" }
        return " (item 0: \(first.message))"
    }
}
