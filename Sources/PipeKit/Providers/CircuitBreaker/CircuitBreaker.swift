/// What a model's circuit breaker did to a call, for the progress, the trace, the summary and
/// the call's record.
public enum CircuitEvent: Sendable, Equatable {
    /// `failures` failed calls in a row: the model is not called for `coolDown`.
    case opened(failures: Int, coolDown: Duration)
    /// A call refused at once while the circuit is open: a call saved. `retryIn`: until the
    /// next trial may go (zero while a trial is in flight).
    case refused(failures: Int, retryIn: Duration)
    /// The cool-down has passed: this call is the trial that decides.
    case trial
    /// The trial succeeded: calls go again; `saved` calls were refused while it was open.
    case closed(saved: Int)
}

/// How a call ended, as a circuit breaker counts it.
enum CircuitVerdict: Sendable {
    /// The model answered (an answer, or a 4xx or malformed reply: it is up).
    case answered
    /// A provider failure: 5xx (529 included), 408, a timeout, a broken connection.
    case failed
    /// Tells nothing about the model: a 429 (the rate limiter's business), a cancelled call.
    case neutral

    init(_ error: ProviderError) {
        switch error {
        case .status(let code, _, _, _): self = code == 429 ? .neutral : (code >= 500 || code == 408 ? .failed : .answered)
        case .transport, .timedOut: self = .failed
        case .cancelled, .circuitOpen: self = .neutral
        case .invalidResponse, .missingAPIKey, .invalidRequest: self = .answered
        }
    }
}

/// Stops calling one API model that keeps failing: after `failures` failed calls in a row
/// (each attempt counts, after the runtime's own retry decisions: a call is one attempt), the
/// circuit opens and every call fails at once, without a request, for `cool_down`. The first
/// call after that is the trial (the others still fail at once while it is in flight): an
/// answer closes the circuit, a failure opens it again for another `cool_down`.
final class CircuitBreaker<C: Clock>: Sendable where C.Duration == Duration {
    enum Admission: Sendable, Equatable {
        case go
        case trial
        case refused(CircuitEvent)
    }

    private struct State {
        var settings: CircuitBreakerSpec
        var failuresInARow = 0
        /// Open until then; nil while closed.
        var openUntil: C.Instant?
        var trialInFlight = false
        /// Calls refused since it last opened.
        var saved = 0
        var stats = CircuitStats()
    }

    private let clock: C
    private let state: Locked<State>

    init(_ settings: CircuitBreakerSpec, clock: C) {
        self.clock = clock
        self.state = Locked(State(settings: settings))
    }

    /// Two model names for the same API model: the stricter of each setting holds.
    func tighten(to settings: CircuitBreakerSpec) {
        state.withLock { state in
            state.settings.failures = min(state.settings.failures, settings.failures)
            state.settings.coolDown = max(state.settings.coolDown, settings.coolDown)
        }
    }

    /// Whether a call may go now.
    func admit() -> Admission {
        let now = clock.now
        return state.withLock { state in
            guard let until = state.openUntil else { return .go }
            if now >= until, !state.trialInFlight {
                state.trialInFlight = true
                return .trial
            }
            state.saved += 1
            state.stats.saved += 1
            return .refused(.refused(failures: state.failuresInARow, retryIn: max(.zero, now.duration(to: until))))
        }
    }

    /// A call that went (`trial` or not) ended so; returns the circuit's change, if any.
    func ended(trial: Bool, _ verdict: CircuitVerdict) -> CircuitEvent? {
        let now = clock.now
        return state.withLock { state in
            if trial { state.trialInFlight = false }
            switch verdict {
            case .neutral:
                return nil
            case .answered:
                state.failuresInARow = 0
                guard trial, state.openUntil != nil else { return nil }
                state.openUntil = nil
                state.stats.closed += 1
                defer { state.saved = 0 }
                return .closed(saved: state.saved)
            case .failed:
                state.failuresInARow += 1
                // A failed trial opens it again; a call let go before it opened changes nothing.
                if trial || (state.openUntil == nil && state.failuresInARow >= state.settings.failures) {
                    let reopening = state.openUntil != nil
                    state.openUntil = now.advanced(by: state.settings.coolDown)
                    if !reopening { state.saved = 0 }
                    state.stats.opened += 1
                    return .opened(failures: state.failuresInARow, coolDown: state.settings.coolDown)
                }
                return nil
            }
        }
    }

    /// What it did so far.
    var stats: CircuitStats {
        state.withLock { state in
            var stats = state.stats
            stats.isOpen = state.openUntil != nil
            return stats
        }
    }
}

/// What one circuit did during the process: for the summaries of `pipe run` and `pipe batch`.
public struct CircuitStats: Sendable, Equatable {
    public var opened = 0
    public var closed = 0
    /// Calls refused at once, without a request.
    public var saved = 0
    /// Open (or half open) at the time of asking.
    public var isOpen = false
}

/// A provider whose calls go through its model's circuit breaker: refused at once while the
/// circuit is open (`ProviderError.circuitOpen`, which sends the stage to its fallback models,
/// or its `on_error`), counted when they end. Outside the rate limiter: a refused call does
/// not wait for its turn.
struct CircuitBreakingProvider<C: Clock>: ModelProvider where C.Duration == Duration {
    let provider: any ModelProvider
    let breaker: CircuitBreaker<C>

    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void)
        async throws(ProviderError) -> ModelReply
    {
        let admission = breaker.admit()
        switch admission {
        case .refused(let event):
            progress(.circuit(event))
            if case .refused(let failures, let retryIn) = event { throw .circuitOpen(failures: failures, retryIn: retryIn) }
            throw .circuitOpen(failures: 0, retryIn: .zero)
        case .trial:
            progress(.circuit(.trial))
        case .go:
            break
        }
        let trial = admission == .trial
        do {
            let reply = try await provider.complete(request, progress: progress)
            if let event = breaker.ended(trial: trial, .answered) { progress(.circuit(event)) }
            return reply
        } catch {
            if let event = breaker.ended(trial: trial, CircuitVerdict(error)) { progress(.circuit(event)) }
            throw error
        }
    }
}

extension CircuitEvent {
    /// What the call's record says of it (`pipe logs`); nil for what the call's error says already.
    var note: String? {
        switch self {
        case .opened(let failures, let coolDown):
            "the circuit opened after \(failures) failed call\(failures == 1 ? "" : "s") in a row, for \(DurationFormat.short(coolDown))"
        case .closed(let saved): "the trial call closed the circuit (\(saved) call\(saved == 1 ? "" : "s") saved while open)"
        case .trial, .refused: nil
        }
    }

    /// The progress line of `model`'s circuit: `circuit of fast opened after 3 failed calls in a row, for 1m00s`.
    public func text(model: String) -> String {
        switch self {
        case .opened(let failures, let coolDown):
            "circuit of `\(model)` opened after \(failures) failed call\(failures == 1 ? "" : "s") in a row; calls fail at once for \(DurationFormat.short(coolDown))"
        case .refused: "not called: the circuit of `\(model)` is open"
        case .trial: "trial call to `\(model)`, whose circuit is open"
        case .closed(let saved): "circuit of `\(model)` closed (\(saved) call\(saved == 1 ? "" : "s") saved)"
        }
    }
}
