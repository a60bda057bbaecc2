/// The circuit breakers of the process: one per API model with a `circuit_breaker` (provider,
/// model id and endpoint, as `RateLimits`), shared by every stage, `for_each` item and loop
/// iteration of a run, and every item of a batch this process runs. Each `pipe worker` has its
/// own: workers on other machines may reach the model by another route.
public final class CircuitBreakers: Sendable {
    public static let shared = CircuitBreakers()

    private let breakers = Locked<[APIModelKey: (names: [String], breaker: CircuitBreaker<ContinuousClock>)]>([:])

    init() {}

    /// `provider` behind the breaker of `model` at `baseURL`, if the model has a `circuit_breaker`.
    func guarding(_ provider: any ModelProvider, model: ResolvedModel, baseURL: String) -> any ModelProvider {
        guard let settings = model.circuitBreaker else { return provider }
        let key = APIModelKey(model, baseURL: baseURL)
        let (breaker, isNew) = breakers.withLock { breakers in
            if let entry = breakers[key] {
                if !entry.names.contains(model.name) { breakers[key]?.names.append(model.name) }
                return (entry.breaker, false)
            }
            let breaker = CircuitBreaker(settings, clock: ContinuousClock())
            breakers[key] = ([model.name], breaker)
            return (breaker, true)
        }
        if !isNew { breaker.tighten(to: settings) }
        return CircuitBreakingProvider(provider: provider, breaker: breaker)
    }

    /// What each circuit that opened did: `circuit fast (claude-haiku-4-5): opened 1×, closed 1×, 12 calls saved`.
    public func summary() -> [String] {
        breakers.withLock { Array($0) }.compactMap { key, entry in
            let stats = entry.breaker.stats
            guard stats.opened > 0 else { return nil }
            return "circuit \(entry.names.joined(separator: ", ")) (\(key.model)): opened \(stats.opened)×, closed \(stats.closed)×, "
                + "\(stats.saved) call\(stats.saved == 1 ? "" : "s") saved" + (stats.isOpen ? "; still open" : "")
        }.sorted()
    }
}
