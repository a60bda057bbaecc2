import Foundation
import Testing
@testable import PipeKit

/// A model's circuit breaker on a manual clock: it opens after N failed calls in a row, refuses
/// calls (counting them as saved) for the cool-down, lets one trial go, and closes or opens again.
@Suite struct CircuitBreakerTests {
    typealias Breaker = CircuitBreaker<ManualClock>

    func breaker(failures: Int = 3, coolDown: Duration = .seconds(60)) -> (Breaker, ManualClock) {
        let clock = ManualClock()
        return (Breaker(CircuitBreakerSpec(failures: failures, coolDown: coolDown), clock: clock), clock)
    }

    @Test func opensAfterNFailuresInARowAndRefusesUntilTheCoolDown() {
        let (breaker, clock) = breaker()
        for _ in 0..<2 {
            #expect(breaker.admit() == .go)
            #expect(breaker.ended(trial: false, .failed) == nil)
        }
        #expect(breaker.admit() == .go)
        #expect(breaker.ended(trial: false, .failed) == .opened(failures: 3, coolDown: .seconds(60)))
        #expect(breaker.admit() == .refused(.refused(failures: 3, retryIn: .seconds(60))))
        clock.advance(by: .seconds(45))
        #expect(breaker.admit() == .refused(.refused(failures: 3, retryIn: .seconds(15))))
        #expect(breaker.stats == CircuitStats(opened: 1, closed: 0, saved: 2, isOpen: true))
        // After the cool-down, one trial; the calls during it are still refused.
        clock.advance(by: .seconds(15))
        #expect(breaker.admit() == .trial)
        #expect(breaker.admit() == .refused(.refused(failures: 3, retryIn: .zero)))
        #expect(breaker.ended(trial: true, .answered) == .closed(saved: 3))
        #expect(breaker.admit() == .go)
        #expect(breaker.stats == CircuitStats(opened: 1, closed: 1, saved: 3, isOpen: false))
    }

    @Test func anAnswerResetsTheCountAndNeutralEndsChangeNothing() {
        let (breaker, _) = breaker(failures: 2)
        #expect(breaker.ended(trial: false, .failed) == nil)
        #expect(breaker.ended(trial: false, .answered) == nil)
        #expect(breaker.ended(trial: false, .failed) == nil)
        // A 429 or a cancelled call neither counts nor resets.
        #expect(breaker.ended(trial: false, .neutral) == nil)
        #expect(breaker.ended(trial: false, .failed) == .opened(failures: 2, coolDown: .seconds(60)))
    }

    @Test func aFailedTrialOpensItAgainForAnotherCoolDown() {
        let (breaker, clock) = breaker(failures: 1, coolDown: .seconds(10))
        #expect(breaker.ended(trial: false, .failed) == .opened(failures: 1, coolDown: .seconds(10)))
        clock.advance(by: .seconds(10))
        #expect(breaker.admit() == .trial)
        #expect(breaker.ended(trial: true, .failed) == .opened(failures: 2, coolDown: .seconds(10)))
        #expect(breaker.admit() == .refused(.refused(failures: 2, retryIn: .seconds(10))))
        clock.advance(by: .seconds(10))
        // A trial that tells nothing (a 429) lets the next call be the trial.
        #expect(breaker.admit() == .trial)
        #expect(breaker.ended(trial: true, .neutral) == nil)
        #expect(breaker.admit() == .trial)
        #expect(breaker.ended(trial: true, .answered) == .closed(saved: 1))
    }

    @Test func whatCountsAsAFailedCall() {
        let anthropic = ProviderRegistry.named("anthropic")!
        for code in [500, 502, 503, 529, 408] {
            #expect(CircuitVerdict(.status(code: code, provider: anthropic, message: "", retryAfter: nil)) == .failed)
        }
        #expect(CircuitVerdict(.transport("reset")) == .failed)
        #expect(CircuitVerdict(.timedOut) == .failed)
        #expect(CircuitVerdict(.status(code: 429, provider: anthropic, message: "", retryAfter: nil)) == .neutral)
        #expect(CircuitVerdict(.cancelled) == .neutral)
        #expect(CircuitVerdict(.status(code: 400, provider: anthropic, message: "", retryAfter: nil)) == .answered)
        #expect(CircuitVerdict(.invalidResponse("not JSON")) == .answered)
    }
}
