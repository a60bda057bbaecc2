/// `circuit_breaker: { failures: 5, cool_down: 60s }` on a model: after `failures` failed calls
/// in a row, the model is not called for `cool_down`; then one trial call decides.
public struct CircuitBreakerSpec: Sendable, Hashable {
    public var failures: Int
    public var coolDown: Duration

    public init(failures: Int, coolDown: Duration) {
        self.failures = failures
        self.coolDown = coolDown
    }
}

extension SpecDecoder {
    mutating func circuitBreaker(_ node: YAMLNode) -> CircuitBreakerSpec? {
        guard let pairs = mapping(node, what: "`circuit_breaker`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.circuitBreaker, in: "`circuit_breaker`")
        let failures = positiveInteger(
            node["failures"], key: "failures", hint: "the failed calls in a row (5xx, 529, timeouts, broken connections) that open the circuit")
        let coolDown = duration(node["cool_down"], key: "cool_down")
        for (key, found) in [("failures", failures != nil || node["failures"] != nil), ("cool_down", coolDown != nil || node["cool_down"] != nil)]
        where !found {
            report(.missingKey, at: node.span, "`circuit_breaker` has no `\(key)`",
                hint: "write `circuit_breaker: { failures: 5, cool_down: 60s }`")
        }
        guard let failures, let coolDown else { return nil }
        return CircuitBreakerSpec(failures: failures.value, coolDown: coolDown.value)
    }
}
