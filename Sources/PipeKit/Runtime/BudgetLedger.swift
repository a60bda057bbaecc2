/// The run's hard limits, enforced before every call: a call is made only when its worst
/// case (estimated input tokens plus `max_tokens`, and their cost) still fits. After the
/// call the reservation is settled with the provider's reported usage.
///
/// The first call that does not fit stops the run: from then on every call is refused,
/// while the calls already in flight finish and are settled, since the provider bills them.
///
/// A lock, not an actor: each of its steps is a few additions, which a stage's call makes from
/// the HTTP client's thread (`CurlLoop`, the runner's task executor) without suspending; as
/// an actor, its reserve and settle were two awaits a call (a 500-call fan-out made some 100
/// fewer context switches of its 1,500 without them, BENCHMARKS.md).
public final class BudgetLedger: Sendable {
    public struct Exceeded: Error, Sendable, CustomStringConvertible {
        public var stage: RunUnitID
        public var description: String
    }

    /// What a call reserved, to settle afterwards.
    public struct Reservation: Sendable {
        var tokens: Int
        var cost: Double
    }

    private struct State {
        var usedTokens = 0
        var usedCostUSD = 0.0
        var reservedTokens = 0
        var reservedCost = 0.0
        var stop: Exceeded?
    }

    let maxTokens: Int?
    let maxCostUSD: Double?
    private let state = Locked(State())

    public var usedTokens: Int { state.withLock { $0.usedTokens } }
    public var usedCostUSD: Double { state.withLock { $0.usedCostUSD } }
    /// The first call that did not fit: no call is made after it.
    public var stop: Exceeded? { state.withLock { $0.stop } }

    public init(maxTokens: Int?, maxCostUSD: Double?) {
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
    }

    /// Reserves a call's worst case, or throws when it would pass a limit or the run has
    /// stopped at one.
    public func reserve(stage: RunUnitID, inputTokens: Int, maxOutputTokens: Int, price: ModelSpec.Price?) throws(Exceeded)
        -> Reservation
    {
        let tokens = inputTokens + maxOutputTokens
        let cost = price.map { Self.cost(TokenUsage(input: inputTokens, output: maxOutputTokens), $0) } ?? 0
        let outcome: Result<Reservation, Exceeded> = state.withLock { state in
            if let stop = state.stop {
                return .failure(Exceeded(stage: stage, description: "not called: the run stopped at a budget (\(stop.description))"))
            }
            if let maxTokens, state.usedTokens + state.reservedTokens + tokens > maxTokens {
                return .failure(Self.refuse(&state, stage: stage,
                    "token budget: stage `\(stage)` may need \(tokens) tokens (\(inputTokens) in, up to \(maxOutputTokens) out), "
                        + "but only \(max(0, maxTokens - state.usedTokens - state.reservedTokens)) of budget.max_tokens (\(maxTokens)) are left"))
            }
            if let maxCostUSD, state.usedCostUSD + state.reservedCost + cost > maxCostUSD {
                return .failure(Self.refuse(&state, stage: stage,
                    "cost budget: stage `\(stage)` may cost up to \(RunSummary.usd(cost)), "
                        + "but only \(RunSummary.usd(max(0, maxCostUSD - state.usedCostUSD - state.reservedCost))) of budget.max_cost_usd (\(RunSummary.usd(maxCostUSD))) is left"))
            }
            state.reservedTokens += tokens
            state.reservedCost += cost
            return .success(Reservation(tokens: tokens, cost: cost))
        }
        return try outcome.get()
    }

    /// The refusal of a call that does not fit, which stops the run.
    private static func refuse(_ state: inout State, stage: RunUnitID, _ description: String) -> Exceeded {
        let refusal = Exceeded(stage: stage, description: description)
        if state.stop == nil { state.stop = refusal }
        return refusal
    }

    /// Replaces a reservation with what the call really used (zero for a call that failed
    /// before the provider counted anything).
    public func settle(_ reservation: Reservation, usage: TokenUsage, price: ModelSpec.Price?) {
        let cost = price.map { Self.cost(usage, $0) } ?? 0
        state.withLock { state in
            state.reservedTokens -= reservation.tokens
            state.reservedCost -= reservation.cost
            state.usedTokens += usage.total
            state.usedCostUSD += cost
        }
    }

    public static func cost(_ usage: TokenUsage, _ price: ModelSpec.Price) -> Double {
        (Double(usage.input) * price.input + Double(usage.output) * price.output) / 1_000_000
    }
}
