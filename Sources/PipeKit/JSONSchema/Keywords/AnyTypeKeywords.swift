/// type, enum, const: keywords for any instance type.
extension Evaluator {
    mutating func checkType(_ types: JSONTypeSet, _ expected: String, _ instance: JSONValue, _ name: String) -> Bool {
        if types.contains(typeOf: instance) { return true }
        report(name, "expected \(expected), got \(describe(instance))")
        return false
    }

    mutating func checkEnum(_ values: [JSONValue], _ instance: JSONValue, _ name: String) -> Bool {
        if values.contains(instance) { return true }
        if collecting {
            let shown = values.prefix(12).map { renderForMessage($0, limit: 40) }.joined(separator: ", ")
            let more = values.count > 12 ? ", … (\(values.count) values)" : ""
            let expectation = values.count == 1 ? "must be \(shown)" : "must be one of \(shown)\(more)"
            report(name, "\(expectation), got \(renderForMessage(instance, limit: 40))")
        }
        return false
    }

    mutating func checkConst(_ value: JSONValue, _ instance: JSONValue, _ name: String) -> Bool {
        if value == instance { return true }
        report(name, "must be \(renderForMessage(value)), got \(renderForMessage(instance, limit: 40))")
        return false
    }
}
