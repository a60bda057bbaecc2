import Foundation

/// How long a server asks a client to wait before retrying (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// The delay in `headers`: OpenAI's `retry-after-ms` when present, else `Retry-After`.
    /// nil when neither is present or parseable.
    public static func delay(in headers: HTTPHeaders, now: Double = currentEpochSeconds()) -> Duration? {
        if let ms = headers["retry-after-ms"], let value = Double(ms), value.isFinite, value >= 0 {
            return .milliseconds(value)
        }
        return headers["retry-after"].flatMap { parse($0, now: now) }
    }

    /// Parses a `Retry-After` value: a number of seconds (`120`, also `1.5`) or an HTTP
    /// date (`Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete RFC 850 and asctime forms).
    /// A date in the past gives zero. `now` is seconds since 1970 (UTC).
    public static func parse(_ value: String, now: Double = currentEpochSeconds()) -> Duration? {
        let text = value.trimmingSpaces
        if let seconds = Double(text) {
            guard seconds.isFinite, seconds >= 0, text.first?.isNumber == true else { return nil }
            return .milliseconds((seconds * 1000).rounded())
        }
        guard let date = httpDate(text) else { return nil }
        return .milliseconds(max(0, ((Double(date) - now) * 1000).rounded()))
    }

    /// Seconds since 1970 (UTC), now.
    public static func currentEpochSeconds() -> Double {
        Date().timeIntervalSince1970
    }

    /// Seconds since 1970 of an HTTP date, nil if `text` is not one.
    static func httpDate(_ text: String) -> Int64? {
        var tokens = text.split(whereSeparator: { " ,-:".contains($0) }).map(String.init)
        if let first = tokens.first, month(first) == nil, first.allSatisfy(\.isLetter) {
            tokens.removeFirst()  // the weekday
        }
        if tokens.last?.uppercased() == "GMT" || tokens.last?.uppercased() == "UTC" { tokens.removeLast() }
        guard tokens.count == 6 else { return nil }
        let day, monthNumber, year, hour, minute, second: Int
        if let m = month(tokens[1]) {
            // IMF-fixdate `06 Nov 1994 08 49 37` or RFC 850 `06 Nov 94 08 49 37`.
            guard let d = Int(tokens[0]), let y = Int(tokens[2]), let h = Int(tokens[3]),
                let mi = Int(tokens[4]), let s = Int(tokens[5])
            else { return nil }
            (day, monthNumber, hour, minute, second) = (d, m, h, mi, s)
            year = tokens[2].count == 2 ? (y < 50 ? 2000 + y : 1900 + y) : y
        } else if let m = month(tokens[0]) {
            // asctime `Nov 6 08 49 37 1994`.
            guard let d = Int(tokens[1]), let h = Int(tokens[2]), let mi = Int(tokens[3]),
                let s = Int(tokens[4]), let y = Int(tokens[5])
            else { return nil }
            (day, monthNumber, hour, minute, second, year) = (d, m, h, mi, s, y)
        } else {
            return nil
        }
        guard (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second), (1900...9999).contains(year)
        else { return nil }
        let days = daysFromCivil(year: year, month: monthNumber, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func month(_ token: String) -> Int? {
        guard token.count == 3 else { return nil }
        return months.firstIndex(of: token.lowercased()).map { $0 + 1 }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
