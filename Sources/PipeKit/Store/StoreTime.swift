import Foundation

/// Times as the store writes them: UTC ISO 8601 with milliseconds, which sort as text and
/// read well in `sqlite3`.
enum StoreTime {
    static func text(_ date: Date) -> String {
        formatter().string(from: date)
    }

    static func date(_ text: String) -> Date? {
        formatter().date(from: text)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int((duration.seconds * 1000).rounded())
    }

    static func duration(milliseconds: Int) -> Duration {
        .milliseconds(milliseconds)
    }

    /// A new formatter each time: `ISO8601DateFormatter` is not `Sendable`.
    private static func formatter() -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// Run ids: the start time in UTC and 4 random hex digits (`20261121-061502-3f9a`): short,
/// sortable by start, and typed by prefix.
public enum RunID {
    public static func make(at date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return String(format: "%04ld%02ld%02ld-%02ld%02ld%02ld-", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            + String(repeating: "0", count: 4 - suffix.count) + suffix
    }
}
