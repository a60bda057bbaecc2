import Foundation
import Testing
@testable import PipeKit

/// Times in traces, run ids and the store are written and read without Foundation's
/// formatters; these pin the format users and `sqlite3` see.
@Suite struct WallClockTests {
    // 2026-11-21T06:15:02.123Z
    static let instant = Date(timeIntervalSince1970: 1_795_241_702.123)

    @Test func formatsUTCWithMilliseconds() {
        let clock = WallClock(Self.instant)
        #expect(clock.rfc3339 == "2026-11-21T06:15:02.123Z")
        #expect(clock.compact == "20261121-061502")
        #expect(WallClock(Date(timeIntervalSince1970: 0)).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(WallClock(Date(timeIntervalSince1970: -0.5)).rfc3339 == "1969-12-31T23:59:59.500Z")
    }

    @Test func readsBackWhatItWrites() throws {
        let text = WallClock(Self.instant).rfc3339
        let date = try #require(WallClock.date(rfc3339: text))
        #expect(abs(date.timeIntervalSince(Self.instant)) < 0.001)
        #expect(WallClock(date).rfc3339 == text)
        #expect(StoreTime.date(StoreTime.text(Self.instant)).map { WallClock($0) } == WallClock(Self.instant))
    }

    @Test func readsOtherFractionsAndNone() {
        #expect(WallClock.date(rfc3339: "2026-11-21T06:15:02Z") == Date(timeIntervalSince1970: 1_795_241_702))
        #expect(WallClock.date(rfc3339: "2026-11-21T06:15:02.5Z") == Date(timeIntervalSince1970: 1_795_241_702.5))
        #expect(WallClock.date(rfc3339: "2026-11-21T06:15:02.123456789Z") != nil)
    }

    @Test(arguments: [
        "", "2026-11-21", "2026-11-21 06:15:02.123Z", "2026-11-21T06:15:02.123", "2026-13-21T06:15:02.123Z",
        "2026-11-21T24:15:02.123Z", "2026-11-21T06:15:02.Z", "2026-11-21T06:15:02,123Z", "2026-11-21T06:15:02.1234567890Z",
        "2026-1a-21T06:15:02.123Z", "2026-11-21T06:15:02.123+01:00",
    ])
    func rejectsAnythingElse(_ text: String) {
        #expect(WallClock.date(rfc3339: text) == nil)
    }

    @Test func runIDsAreTheUTCStartAndFourHexDigits() {
        let id = RunID.make(at: Self.instant)
        #expect(id.hasPrefix("20261121-061502-"))
        #expect(id.count == 20)
        #expect(id.suffix(4).allSatisfy { $0.isHexDigit })
    }
}
