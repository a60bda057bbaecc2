import PipeKit
import Testing

@Suite("HTTP Retry-After")
struct HTTPRetryAfterTests {
    /// 1994-11-06 08:49:37 UTC.
    private let date: Double = 784_111_777

    @Test func parsesSeconds() {
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse(" 0 ") == .zero)
        #expect(RetryAfter.parse("1.5") == .milliseconds(1500))
    }

    @Test func parsesTheThreeHTTPDateForms() {
        let now = date - 30
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994", now: now) == .seconds(30))
    }

    @Test func aPastDateIsZero() {
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: date + 100) == .zero)
    }

    @Test func rejectsNonsense() {
        for value in ["", "-1", "soon", "nan", "inf", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"] {
            #expect(RetryAfter.parse(value) == nil, "\(value)")
        }
    }

    @Test func prefersRetryAfterMilliseconds() {
        #expect(RetryAfter.delay(in: ["Retry-After": "2", "retry-after-ms": "250"]) == .milliseconds(250))
        #expect(RetryAfter.delay(in: ["Retry-After": "2"]) == .seconds(2))
        #expect(RetryAfter.delay(in: ["x": "y"]) == nil)
    }
}
