/// Paces the calls to one API model so that no minute holds more than its `rate_limit`,
/// whichever stage, `for_each` item or run of the process makes them.
///
/// - Requests: one every `60 s / requests_per_minute`, with no burst: the first call goes at
///   once, the next one interval after it (so any 60 s window holds at most N grants).
/// - Tokens: a call goes when its tokens (the estimated input plus `max_tokens`) fit what the
///   calls granted in the last 60 s hold; when it ends, its count is corrected to the reply's
///   usage (its estimated input for a failure other than a 429, nothing for a 429). A call
///   larger than the whole limit waits for an empty minute and goes alone.
/// - A 429 pauses every caller until its `Retry-After` (else 1 s, doubled for each 429 in a row,
///   at most 120 s) and halves the pace (to 1/16 of the limit at most); a 429 during a pause
///   extends it without halving again. From the end of the pause the pace climbs back by a
///   tenth of the limit every 10 s.
/// - `workers`: the number of processes that share the limit (batch workers); each takes
///   its share, `1/workers` of the limit.
///
/// Calls wait in order of arrival. Waiting suspends the task (no thread is held) and ends
/// when the task is cancelled.
final class RateLimiter<C: Clock>: Sendable where C.Duration == Duration {
    /// A granted call, to settle with `finish` or `rateLimited` when it ends.
    struct Ticket: Sendable, Hashable {
        fileprivate let id: Int
        /// When the call was let go.
        let at: C.Instant
    }

    private struct Waiter {
        let id: Int
        let tokens: Int
        /// Resumed when something changed that may let this waiter go (it became the first, a
        /// token count was corrected...), or set when nothing waits on it yet.
        var wake: CheckedContinuation<Void, Never>?
        var poked = false
    }

    private enum Step {
        case granted(C.Instant)
        /// Wait for a change, and at most until the instant (nil: until a change); `paused`:
        /// every call waits for the end of a pause after a 429.
        case wait(C.Instant?, paused: Bool)
    }

    static var window: Duration { .seconds(60) }

    private struct State {
        var limit: ModelSpec.RateLimit
        var workers: Int
        var lastGrant: C.Instant?
        /// The calls granted in the last minute, oldest first, with their tokens.
        var granted: [(id: Int, at: C.Instant, tokens: Int)] = []
        var pausedUntil: C.Instant?
        /// After a 429: the share of the limit in use from `from` (the end of the pause), before
        /// it climbs back.
        var slowdown: (share: Double, from: C.Instant)?
        var rateLimitedInARow = 0
        var waiters: [Waiter] = []
        var nextID = 0

        /// The share of the limit in use at `now`, lowered by 429s.
        func share(at now: C.Instant) -> Double {
            guard let slowdown else { return 1 }
            guard now > slowdown.from else { return slowdown.share }
            let steps = (slowdown.from.duration(to: now) / .seconds(10)).rounded(.down)
            return min(1, slowdown.share + 0.1 * steps)
        }

        /// The earliest instant the first waiter, asking for `tokens`, may go, from `now`.
        mutating func earliest(tokens: Int, now: C.Instant) -> C.Instant {
            var instant = now
            if let pausedUntil { instant = max(instant, pausedUntil) }
            let share = self.share(at: now) / Double(workers)
            if let requests = limit.requestsPerMinute, let lastGrant {
                instant = max(instant, lastGrant.advanced(by: RateLimiter.window / (Double(requests) * share)))
            }
            granted.removeAll { $0.at.advanced(by: RateLimiter.window) <= now }
            if let perMinute = limit.tokensPerMinute {
                let capacity = max(1, Int(Double(perMinute) * share))
                var used = granted.reduce(0) { $0 + $1.tokens }
                // The oldest calls leave the window first; a call larger than the whole limit
                // goes once the window is empty.
                for call in granted {
                    if used + tokens <= capacity { break }
                    used -= call.tokens
                    instant = max(instant, call.at.advanced(by: RateLimiter.window))
                }
            }
            return instant
        }

        mutating func step(_ id: Int, now: C.Instant) -> Step {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else {
                preconditionFailure("a waiter leaves the queue only when it goes or gives up")
            }
            waiters[index].poked = false
            let paused = pausedUntil.map { $0 > now } ?? false
            guard index == 0 else { return .wait(nil, paused: paused) }
            let instant = earliest(tokens: waiters[0].tokens, now: now)
            guard instant <= now else { return .wait(instant, paused: paused) }
            granted.append((id, now, waiters[0].tokens))
            lastGrant = now
            waiters.removeFirst()
            return .granted(now)
        }

        /// Tells the first waiter to look again: returns its continuation to resume, if it waits.
        mutating func pokeFirst() -> CheckedContinuation<Void, Never>? {
            guard !waiters.isEmpty else { return nil }
            waiters[0].poked = true
            defer { waiters[0].wake = nil }
            return waiters[0].wake
        }

        mutating func correct(_ id: Int, tokens: Int) {
            if let index = granted.firstIndex(where: { $0.id == id }) { granted[index].tokens = tokens }
        }
    }

    private let clock: C
    private let state: Locked<State>

    init(limit: ModelSpec.RateLimit, clock: C, workers: Int = 1) {
        self.clock = clock
        state = Locked(State(limit: limit, workers: max(1, workers)))
    }

    /// Waits until a call of `tokens` may go, in order of arrival; throws if the task is
    /// cancelled first. `waiting` is told when the call starts to wait, when what it waits
    /// for changes (its turn comes, a 429 pauses the model), and when it goes after a wait.
    func acquire(tokens: Int, waiting: (RateLimitWait) -> Void = { _ in }) async throws(CancellationError) -> Ticket {
        let start = clock.now
        let id = state.withLock { state in
            state.nextID += 1
            state.waiters.append(Waiter(id: state.nextID, tokens: tokens))
            return state.nextID
        }
        var told: (until: C.Instant?, paused: Bool)?
        while true {
            if Task.isCancelled {
                change { state in state.waiters.removeAll { $0.id == id } }
                throw CancellationError()
            }
            let now = clock.now
            let step = state.withLock { $0.step(id, now: now) }
            if case .wait(let until, let paused) = step, told.map({ $0.until != until || $0.paused != paused }) ?? true {
                told = (until, paused)
                waiting(.waiting(expected: until.map { now.duration(to: $0) }, after429: paused))
            }
            switch step {
            case .granted(let instant):
                // The next waiter is first now.
                change { _ in }
                if told != nil { waiting(.granted(waited: start.duration(to: instant))) }
                return Ticket(id: id, at: instant)
            case .wait(nil, _):
                await poked(id)
            case .wait(let instant?, _):
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { [clock] in try? await clock.sleep(until: instant, tolerance: nil) }
                    group.addTask { await self.poked(id) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// The call of `ticket` ended: it counts for `tokens` (the reply's usage).
    func finish(_ ticket: Ticket, tokens: Int) {
        change { state in
            state.correct(ticket.id, tokens: tokens)
            state.rateLimitedInARow = 0
        }
    }

    /// The call of `ticket` got a 429: every caller pauses and the pace slows.
    func rateLimited(_ ticket: Ticket, retryAfter: Duration?) {
        let now = clock.now
        change { state in
            state.correct(ticket.id, tokens: 0)
            state.rateLimitedInARow += 1
            let pause = min(retryAfter ?? .seconds(1 << min(state.rateLimitedInARow - 1, 7)), .seconds(120))
            let wasPaused = state.pausedUntil.map { $0 > now } ?? false
            let until = max(state.pausedUntil ?? now, now.advanced(by: pause))
            state.pausedUntil = until
            let share = wasPaused ? state.slowdown?.share ?? 1 : max(1.0 / 16, state.share(at: now) / 2)
            state.slowdown = (share, until)
        }
    }

    /// The number of processes sharing the limit: each takes `1/workers` of it.
    func share(among workers: Int) {
        change { $0.workers = max(1, workers) }
    }

    /// Lowers the limit to `other`'s where it is lower (two names declared for one API model).
    func tighten(to other: ModelSpec.RateLimit) {
        change { state in
            func lower(_ a: Int?, _ b: Int?) -> Int? { [a, b].compactMap { $0 }.min() }
            state.limit = ModelSpec.RateLimit(
                requestsPerMinute: lower(state.limit.requestsPerMinute, other.requestsPerMinute),
                tokensPerMinute: lower(state.limit.tokensPerMinute, other.tokensPerMinute))
        }
    }

    /// Calls waiting for their turn.
    var waiting: Int { state.withLock { $0.waiters.count } }

    var limit: ModelSpec.RateLimit { state.withLock { $0.limit } }

    /// Changes the state, then lets the first waiter look again.
    private func change(_ body: (inout State) -> Void) {
        state.withLock { state in
            body(&state)
            return state.pokeFirst()
        }?.resume()
    }

    /// Returns when the waiter `id` is poked, or its task cancelled.
    private func poked(_ id: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Under the lock: the cancellation handler either runs before (and the task is
                // cancelled already) or finds the continuation.
                let now = state.withLock { state in
                    guard !Task.isCancelled, let index = state.waiters.firstIndex(where: { $0.id == id }),
                        !state.waiters[index].poked
                    else { return true }
                    state.waiters[index].wake = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let wake: CheckedContinuation<Void, Never>? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                defer { state.waiters[index].wake = nil }
                return state.waiters[index].wake
            }
            wake?.resume()
        }
    }
}
