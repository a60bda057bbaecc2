import Testing
@testable import PipeKit

/// How often `pipe worker` and `pipe batch` on a shared queue look again for items when
/// they found none to claim: one schedule for both (`IdleWait`).
@Suite struct IdleWaitTests {
    @Test func looksAgainSoonWhileOthersRunItemsThenLessOftenUpToASecond() {
        var idle = IdleWait()
        let waits = (0..<7).map { _ in idle.wait(othersRunning: true) }
        #expect(waits == [50, 100, 200, 400, 800, 1000, 1000].map { Duration.milliseconds($0) })
    }

    @Test func withNothingRunningAnywhereLooksEverySecondAndStartsSoonAgainAfter() {
        var idle = IdleWait()
        _ = idle.wait(othersRunning: true)
        _ = idle.wait(othersRunning: true)
        #expect(idle.wait(othersRunning: false) == .seconds(1))
        #expect(idle.wait(othersRunning: true) == .milliseconds(50))
    }
}
