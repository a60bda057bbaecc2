import Foundation

/// Times as the store writes them: UTC ISO 8601 with milliseconds, which sort as text and
/// read well in `sqlite3`.
enum StoreTime {
    static func text(_ date: Date) -> String {
        WallClock(date).rfc3339
    }

    static func date(_ text: String) -> Date? {
        WallClock.date(rfc3339: text)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int((duration.seconds * 1000).rounded())
    }

    static func duration(milliseconds: Int) -> Duration {
        .milliseconds(milliseconds)
    }
}

/// Run ids: the start time in UTC and 4 random hex digits (`20261121-061502-3f9a`): short,
/// sortable by start, and typed by prefix. A run whose start is queued without checking its
/// id (a batch item's, `RunStore.queuedItemStart`) takes 12 (`20261121-061502-3f9a07c41be2`),
/// so that two processes starting a thousand such runs a second do not draw the same.
public enum RunID {
    public static func make(at date: Date = Date()) -> String {
        WallClock(date).compact + "-" + String(UInt16.random(in: 0...UInt16.max), radix: 16).leftPadded(to: 4)
    }

    static func makeLong(at date: Date) -> String {
        WallClock(date).compact + "-" + String(UInt64.random(in: 0..<(1 << 48)), radix: 16).leftPadded(to: 12)
    }
}
