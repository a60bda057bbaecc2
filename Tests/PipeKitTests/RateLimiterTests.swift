import Foundation
import Testing
@testable import PipeKit

/// The rate limiter on a clock the tests move: which call goes when, in which order.
@Suite struct RateLimiterTests {
    typealias Limiter = RateLimiter<ManualClock>

    /// Grants recorded as (call, instant since the clock's start).
    final class Grants: Sendable {
        private let grants = Locked<[(call: Int, at: Duration)]>([])
        /// In the order the calls were let go.
        var all: [(call: Int, at: Duration)] { grants.withLock { $0 }.sorted { ($0.at, $0.call) < ($1.at, $1.call) } }
        var count: Int { grants.withLock { $0.count } }
        /// How many calls have gone, this one included: exactly one caller sees the last count.
        func record(_ call: Int, at instant: ManualClock.Instant) -> Int {
            grants.withLock { $0.append((call, instant.offset)); return $0.count }
        }
    }

    /// Starts `calls` callers asking for `tokens` each, one after the other (each waits in line
    /// before the next arrives), moves the clock from deadline to deadline until all have gone,
    /// and returns the grants.
    func grants(_ limiter: Limiter, clock: ManualClock, calls: Int, tokens: Int = 1) async throws -> [(call: Int, at: Duration)] {
        let grants = Grants()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for call in 0..<calls {
                group.addTask {
                    // Once: a second stop, left over, would end the next drive before it began.
                    if grants.record(call, at: try await limiter.acquire(tokens: tokens).at) == calls { clock.stopDriving() }
                }
                try #require(await until { grants.count + limiter.waiting == call + 1 })
            }
            await clock.drive()
            // Callers still waiting once nothing sleeps any more would wait for ever.
            group.cancelAll()
            try await group.waitForAll()
        }
        return grants.all
    }

    /// Waits (yielding) until `condition` holds; false if it does not within the clock's
    /// patience (the test then fails instead of hanging).
    func until(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + ManualClock.patience
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            await Task.yield()
        }
        return true
    }

    /// The task's value; the task is cancelled if it has not ended within the clock's
    /// patience (a limiter that never lets it go then fails the test instead of hanging it).
    func value<T: Sendable>(_ task: Task<T, any Error>) async throws -> T {
        let watchdog = Task {
            try await Task.sleep(for: ManualClock.patience)
            task.cancel()
        }
        defer { watchdog.cancel() }
        return try await task.value
    }

    /// `body`'s value, within the clock's patience.
    func within<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await value(Task { try await body() })
    }

    static func near(_ a: Duration, _ b: Duration) -> Bool { abs((a - b) / .seconds(1)) < 1e-6 }

    /// The same instants, to the microsecond.
    static func near(_ a: [Duration], _ b: [Duration]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { near($0, $1) } }

    @Test(arguments: [60, 600, 7])
    func theKthCallGoesAtKMinusOneIntervalsInOrderOfArrival(_ perMinute: Int) async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(requestsPerMinute: perMinute), clock: clock)
        let grants = try await grants(limiter, clock: clock, calls: 10)
        #expect(grants.map(\.call) == Array(0..<10))
        for (k, grant) in grants.enumerated() {
            let expected = Duration.seconds(60) * k / perMinute
            #expect(Self.near(grant.at, expected), "call \(k) went at \(grant.at), expected \(expected)")
        }
    }

    @Test func workersShareTheLimit() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(requestsPerMinute: 60), clock: clock, workers: 2)
        #expect(Self.near(try await grants(limiter, clock: clock, calls: 3).map(\.at), [.zero, .seconds(2), .seconds(4)]))
        // A third worker joins: each now takes a third.
        limiter.share(among: 3)
        let later = try await grants(limiter, clock: clock, calls: 2).map(\.at)
        #expect(Self.near(later, [.seconds(7), .seconds(10)]))
    }

    @Test func tokensFitTheLastMinuteAndAreCorrectedByTheUsage() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(tokensPerMinute: 1000), clock: clock)
        let first = try await within { try await limiter.acquire(tokens: 600) }
        // 600 + 600 > 1000: the second call waits for the first to leave the window...
        let second = Task { try await limiter.acquire(tokens: 600) }
        #expect(await clock.nextDeadline()?.offset == .seconds(60))
        // ...until the first reports that it used 300: then it goes at once.
        limiter.finish(first, tokens: 300)
        _ = try await value(second)
        #expect(clock.now.offset == .zero)
        // 300 + 600 + 200 > 1000: the next waits until the first call's minute has passed.
        let third = Task { try await limiter.acquire(tokens: 200) }
        let deadline = try #require(await clock.nextDeadline())
        #expect(deadline.offset == .seconds(60))
        clock.advance(to: deadline)
        _ = try await value(third)
        #expect(clock.now.offset == .seconds(60))
        // A call larger than the whole limit goes alone, once the minute is empty (at 120 s).
        let huge = Task { try await limiter.acquire(tokens: 5000) }
        clock.advance(to: try #require(await clock.nextDeadline()))
        _ = try await value(huge)
        #expect(clock.now.offset == .seconds(120))
    }

    @Test func a429PausesEveryWaiterAndSlowsThePace() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(requestsPerMinute: 60), clock: clock)
        let first = try await within { try await limiter.acquire(tokens: 1) }
        let grants = Grants()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for call in 1...4 {
                group.addTask {
                    if grants.record(call, at: try await limiter.acquire(tokens: 1).at) == 4 { clock.stopDriving() }
                }
                try #require(await until { limiter.waiting == call })
            }
            // Half a second in, the first call gets a 429 asking for 5 s.
            clock.advance(by: .milliseconds(500))
            limiter.rateLimited(first, retryAfter: .seconds(5))
            await clock.drive()
            group.cancelAll()
            try await group.waitForAll()
        }
        // Nobody went during the pause; then the pace is halved: one call every 2 s, not 1 s.
        #expect(grants.all.map(\.call) == [1, 2, 3, 4])
        #expect(Self.near(grants.all.map(\.at), [.milliseconds(5500), .milliseconds(7500), .milliseconds(9500), .milliseconds(11500)]))
    }

    @Test func a429WithoutRetryAfterBacksOffAndThePaceClimbsBackATenthEveryTenSeconds() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(requestsPerMinute: 60), clock: clock)
        // No Retry-After: a pause of 1 s, and half the pace (one call every 2 s) from there.
        limiter.rateLimited(try await within { try await limiter.acquire(tokens: 1) }, retryAfter: nil)
        let second = Task { try await limiter.acquire(tokens: 1) }
        clock.advance(to: try #require(await clock.nextDeadline()))
        let ticket = try await value(second)
        #expect(Self.near(clock.now.offset, .seconds(2)))
        // A second 429 in a row: a pause of 2 s (until 4 s), and a quarter of the pace.
        limiter.rateLimited(ticket, retryAfter: nil)
        let third = Task { try await limiter.acquire(tokens: 1) }
        clock.advance(to: try #require(await clock.nextDeadline()))
        limiter.finish(try await value(third), tokens: 1)
        #expect(Self.near(clock.now.offset, .seconds(6)))
        // 50 s after the pause: a quarter plus five tenths, one call every 60 / 45 s.
        clock.advance(to: ManualClock.Instant(offset: .seconds(54)))
        let recovering = try await grants(limiter, clock: clock, calls: 2).map(\.at)
        #expect(Self.near(recovering, [.seconds(54), .seconds(54) + .seconds(60) / 45]))
        // 80 s after the pause: the whole pace again.
        clock.advance(to: ManualClock.Instant(offset: .seconds(84)))
        #expect(Self.near(try await grants(limiter, clock: clock, calls: 2).map(\.at), [.seconds(84), .seconds(85)]))
    }

    @Test func aCancelledWaiterLeavesTheLineAndTheNextTakesItsTurn() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(requestsPerMinute: 60), clock: clock)
        _ = try await within { try await limiter.acquire(tokens: 1) }
        let cancelled = Task { try await limiter.acquire(tokens: 1) }
        try #require(await until { limiter.waiting == 1 })
        let next = Task { try await limiter.acquire(tokens: 1) }
        try #require(await until { limiter.waiting == 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await value(cancelled) }
        #expect(limiter.waiting == 1)
        let deadline = try #require(await clock.nextDeadline())
        #expect(Self.near(deadline.offset, .seconds(1)))
        clock.advance(to: deadline)
        _ = try await value(next)
        #expect(Self.near(clock.now.offset, .seconds(1)))
        #expect(limiter.waiting == 0)
    }

    @Test func aPacedProviderCountsTheEstimateThenTheUsageAndPausesOnA429() async throws {
        let clock = ManualClock()
        let limiter = Limiter(limit: .init(tokensPerMinute: 400), clock: clock)
        let scripted = ScriptedProvider { _, number throws(ProviderError) in
            if number == 2 { throw .status(code: 429, provider: .anthropic, message: "slow down", retryAfter: .seconds(5)) }
            return "ok"
        }
        let provider = RateLimitedProvider(provider: scripted, limiter: limiter)
        // About 6 input tokens and 256 max_tokens: 262 reserved, then 15 used (the reply's usage).
        let large = testRequest(.anthropic, maxTokens: 256)
        _ = try await within { try await provider.complete(large) { _ in } }
        // 262 + 262 would not fit 400; 15 + 262 does: the second call goes at once, and gets a 429.
        await #expect(throws: ProviderError.self) { _ = try await within { try await provider.complete(large) { _ in } } }
        #expect(clock.now.offset == .zero)
        // The next call waits out the 429's 5 s (and fits half the limit: 15 + 56).
        let third = Task { try await provider.complete(testRequest(.anthropic, maxTokens: 50)) { _ in } }
        let deadline = try #require(await clock.nextDeadline())
        #expect(deadline.offset == .seconds(5))
        clock.advance(to: deadline)
        #expect(try await value(third).answerText == "ok")
        #expect(scripted.calls.count == 3)
    }

    /// The limiter is the API model's: two names for it share one, with the lower of each
    /// limit; another endpoint has its own; a model without `rate_limit` is not paced.
    @Test func namesOfOneAPIModelShareOneLimiter() throws {
        let factory = ProviderFactory(environment: ["ANTHROPIC_API_KEY": "k"])
        var fast = testModel(.anthropic, baseURL: "https://rate-limit-share.example")
        fast.rateLimit = .init(requestsPerMinute: 60)
        var cheap = fast
        cheap.name = "cheap"
        cheap.rateLimit = .init(requestsPerMinute: 100, tokensPerMinute: 5000)
        var elsewhere = fast
        elsewhere.baseURL = "https://rate-limit-other.example"
        var unpaced = fast
        unpaced.rateLimit = nil
        typealias Paced = RateLimitedProvider<ContinuousClock>
        let a = try #require(try factory.provider(for: fast) as? Paced)
        let b = try #require(try factory.provider(for: cheap) as? Paced)
        let c = try #require(try factory.provider(for: elsewhere) as? Paced)
        #expect(a.limiter === b.limiter && a.limiter !== c.limiter)
        #expect(a.limiter.limit == .init(requestsPerMinute: 60, tokensPerMinute: 5000))
        #expect(try !(factory.provider(for: unpaced) is Paced))
        #expect(try ProviderFactory(environment: [:], forceMock: true).provider(for: fast) is MockProvider)
    }
}
