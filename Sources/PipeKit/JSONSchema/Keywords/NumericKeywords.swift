/// multipleOf, maximum, exclusiveMaximum, minimum, exclusiveMinimum: exact decimal comparisons.
extension Evaluator {
    mutating func checkNumber(_ keyword: Keyword, _ instance: JSONValue, _ name: String) -> Bool {
        guard case .number(let n) = instance else { return true }
        switch keyword {
        case .multipleOf(let divisor):
            if n.isMultiple(of: divisor) { return true }
            report(name, "must be a multiple of \(divisor), got \(n)")
        case .maximum(let limit):
            if n <= limit { return true }
            report(name, "must be at most \(limit), got \(n)")
        case .exclusiveMaximum(let limit):
            if n < limit { return true }
            report(name, "must be less than \(limit), got \(n)")
        case .minimum(let limit):
            if n >= limit { return true }
            report(name, "must be at least \(limit), got \(n)")
        case .exclusiveMinimum(let limit):
            if n > limit { return true }
            report(name, "must be greater than \(limit), got \(n)")
        default:
            return true
        }
        return false
    }
}
