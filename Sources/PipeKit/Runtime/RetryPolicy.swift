/// How long to wait before another attempt: exponential backoff with jitter, and never
/// less than what the provider asked for with `Retry-After`.
public struct RetryPolicy: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The pause before retry number `retry` (1 for the first retry).
    public func delay(retry: Int, retryAfter: Duration?) -> Duration {
        let exponential = baseDelay * (1 << min(max(retry - 1, 0), 16))
        let capped = min(exponential, maxDelay)
        // "Equal jitter": half fixed, half random, so that parallel stages spread out.
        let jittered = capped / 2 + capped / 2 * Double.random(in: 0...1)
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, .seconds(120)))
    }
}
