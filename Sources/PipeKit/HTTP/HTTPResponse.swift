/// A complete HTTP response.
public struct HTTPResponse: Sendable {
    /// The final status code (interim 1xx responses are skipped).
    public var status: Int
    public var headers: HTTPHeaders
    /// The body; empty when it was delivered chunk by chunk to a streaming caller.
    public var body: [UInt8]
    /// Timings and connection reuse.
    public var metrics: HTTPMetrics

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = [], metrics: HTTPMetrics = HTTPMetrics()) {
        self.status = status
        self.headers = headers
        self.body = body
        self.metrics = metrics
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// True for a 2xx status.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// How long the server asks the caller to wait before retrying, from `retry-after-ms`
    /// (OpenAI) or `Retry-After` (seconds or an HTTP date); nil when neither is usable.
    public func retryAfter(now: Double = RetryAfter.currentEpochSeconds()) -> Duration? {
        RetryAfter.delay(in: headers, now: now)
    }
}
