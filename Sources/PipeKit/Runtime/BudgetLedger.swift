/// The run's hard limits, enforced before every call: a call is made only when its worst
/// case (estimated input tokens plus `max_tokens`, and their cost) still fits. After the
/// call the reservation is settled with the provider's reported usage.
///
/// The first call that does not fit stops the run: from then on every call is refused,
/// while the calls already in flight finish and are settled, since the provider bills them.
public actor BudgetLedger {
    public struct Exceeded: Error, Sendable, CustomStringConvertible {
        public var stage: RunUnitID
        public var description: String
    }

    /// What a call reserved, to settle afterwards.
    public struct Reservation: Sendable {
        var tokens: Int
        var cost: Double
    }

    let maxTokens: Int?
    let maxCostUSD: Double?
    public private(set) var usedTokens = 0
    public private(set) var usedCostUSD = 0.0
    private var reservedTokens = 0
    private var reservedCost = 0.0
    /// The first call that did not fit: no call is made after it.
    public private(set) var stop: Exceeded?

    public init(maxTokens: Int?, maxCostUSD: Double?) {
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
    }

    /// Reserves a call's worst case, or throws when it would pass a limit or the run has
    /// stopped at one.
    public func reserve(stage: RunUnitID, inputTokens: Int, maxOutputTokens: Int, price: ModelSpec.Price?) throws(Exceeded)
        -> Reservation
    {
        if let stop {
            throw Exceeded(stage: stage, description: "not called: the run stopped at a budget (\(stop.description))")
        }
        let tokens = inputTokens + maxOutputTokens
        let cost = price.map { Self.cost(TokenUsage(input: inputTokens, output: maxOutputTokens), $0) } ?? 0
        if let maxTokens, usedTokens + reservedTokens + tokens > maxTokens {
            throw refuse(
                stage: stage,
                "token budget: stage `\(stage)` may need \(tokens) tokens (\(inputTokens) in, up to \(maxOutputTokens) out), "
                    + "but only \(max(0, maxTokens - usedTokens - reservedTokens)) of budget.max_tokens (\(maxTokens)) are left")
        }
        if let maxCostUSD, usedCostUSD + reservedCost + cost > maxCostUSD {
            throw refuse(
                stage: stage,
                "cost budget: stage `\(stage)` may cost up to \(RunSummary.usd(cost)), "
                    + "but only \(RunSummary.usd(max(0, maxCostUSD - usedCostUSD - reservedCost))) of budget.max_cost_usd (\(RunSummary.usd(maxCostUSD))) is left")
        }
        reservedTokens += tokens
        reservedCost += cost
        return Reservation(tokens: tokens, cost: cost)
    }

    /// The refusal of a call that does not fit, which stops the run.
    private func refuse(stage: RunUnitID, _ description: String) -> Exceeded {
        let refusal = Exceeded(stage: stage, description: description)
        if stop == nil { stop = refusal }
        return refusal
    }

    /// Replaces a reservation with what the call really used (zero for a call that failed
    /// before the provider counted anything).
    public func settle(_ reservation: Reservation, usage: TokenUsage, price: ModelSpec.Price?) {
        reservedTokens -= reservation.tokens
        reservedCost -= reservation.cost
        usedTokens += usage.total
        usedCostUSD += price.map { Self.cost(usage, $0) } ?? 0
    }

    public static func cost(_ usage: TokenUsage, _ price: ModelSpec.Price) -> Double {
        (Double(usage.input) * price.input + Double(usage.output) * price.output) / 1_000_000
    }
}
