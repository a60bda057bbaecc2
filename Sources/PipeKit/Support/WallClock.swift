import Foundation

/// The current time in UTC, formatted for traces, run ids and the run store.
public struct WallClock: Sendable {
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int

    public static func now() -> WallClock {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return WallClock(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday), hour: Int(parts.tm_hour),
            minute: Int(parts.tm_min), second: Int(parts.tm_sec), millisecond: Int(time.tv_nsec / 1_000_000))
    }

    /// `2026-11-21T06:15:02.123Z`
    public var rfc3339: String {
        "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second)).\(String(millisecond).leftPadded(to: 3))Z"
    }

    /// `20261121-061502`
    public var compact: String {
        "\(year)\(two(month))\(two(day))-\(two(hour))\(two(minute))\(two(second))"
    }

    private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
