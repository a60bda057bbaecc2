import Foundation

/// A time in UTC, to the millisecond, formatted for traces, run ids and the run store.
///
/// Built on the C library (`gmtime_r`, `timegm`) rather than Foundation's formatters and
/// calendars, which load ICU's calendar and time-zone data: a few MB of a run's memory.
public struct WallClock: Sendable, Equatable {
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int

    public static func now() -> WallClock {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallClock(seconds: time_t(time.tv_sec), millisecond: Int(time.tv_nsec / 1_000_000))
    }

    public init(_ date: Date) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (seconds, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        self.init(seconds: time_t(remainder < 0 ? seconds - 1 : seconds), millisecond: Int(remainder < 0 ? remainder + 1000 : remainder))
    }

    private init(seconds: time_t, millisecond: Int) {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
        self.millisecond = millisecond
    }

    /// `2026-11-21T06:15:02.123Z`
    /// Written digit by digit for a four-digit year (the store writes one for every call and
    /// stage record: an interpolation of seven strings cost ten times as much).
    public var rfc3339: String {
        guard (0...9999).contains(year) else {
            return "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second)).\(String(millisecond).leftPadded(to: 3))Z"
        }
        // Each field with its width and the character after it.
        let fields: [(value: Int, digits: Int, then: Unicode.Scalar)] = [
            (year, 4, "-"), (month, 2, "-"), (day, 2, "T"), (hour, 2, ":"), (minute, 2, ":"), (second, 2, "."),
            (millisecond, 3, "Z"),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var at = 0
            for field in fields {
                var value = field.value
                for index in stride(from: at + field.digits - 1, through: at, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                buffer[at + field.digits] = UInt8(ascii: field.then)
                at += field.digits + 1
            }
            return at
        }
    }

    /// `20261121-061502`
    public var compact: String {
        "\(year)\(two(month))\(two(day))-\(two(hour))\(two(minute))\(two(second))"
    }

    private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// The instant of a UTC RFC 3339 time as `rfc3339` writes it (`2026-11-21T06:15:02.123Z`;
    /// the fraction may have any number of digits or be left out); nil for any other text.
    public static func date(rfc3339 text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            let digits = 20..<(bytes.count - 1)
            guard bytes[19] == UInt8(ascii: "."), (1...9).contains(digits.count), let value = number(digits) else { return nil }
            fraction = Double(value) / pow(10, Double(digits.count))
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: Double(timegm(&parts)) + fraction)
    }
}
