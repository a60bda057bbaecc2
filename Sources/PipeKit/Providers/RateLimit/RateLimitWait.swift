/// A call waiting for its model's `rate_limit` (`RateLimiter`), as the progress line and the
/// trace show it.
public enum RateLimitWait: Sendable, Equatable {
    /// The call waits its turn. `expected`: how long until it may go, when it is the next to go
    /// (nil: other calls wait before it); `after429`: the model is paused after a 429 (its
    /// `Retry-After`, else a doubling pause). Told again when either changes.
    case waiting(expected: Duration?, after429: Bool)
    /// The call goes, after waiting `waited`.
    case granted(waited: Duration)
}

extension RateLimitWait {
    /// What the progress shows of calls waiting for `model`'s rate limit:
    /// `waiting for rate limit: fast (429, 12.0s)`, `waiting for rate limit: fast (3 calls, 1.5s)`.
    /// `remaining`: how long the next of them still waits, when known.
    public static func text(model: String, calls: Int = 1, after429: Bool, remaining: Duration?) -> String {
        let details = [calls > 1 ? "\(calls) calls" : nil, after429 ? "429" : nil, remaining.map { DurationFormat.short(max(.zero, $0)) }]
            .compactMap { $0 }
        return "waiting for rate limit: \(model)" + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
    }
}
