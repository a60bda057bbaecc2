/// Why an HTTP exchange produced no complete response.
///
/// An HTTP error status (4xx, 5xx) is not an `HTTPError`: it arrives as an
/// `HTTPResponse` so the caller can read its body and `Retry-After`.
/// Messages never contain a header value or a URL query.
public enum HTTPError: Error, Sendable, Equatable {
    /// The request cannot be sent as given (bad URL, a newline in a header, ...).
    case invalidRequest(String)
    /// No response arrived: the name did not resolve, the connection was refused or reset, TLS failed.
    case connection(String)
    /// The response began but the connection broke before it was complete.
    case interrupted(String)
    /// The attempt took longer than the request's `timeout` or `connectTimeout`.
    case timedOut
    /// The calling task was cancelled; the transfer was abandoned.
    case cancelled
    /// libcurl failed for a reason unrelated to the server (out of memory, unsupported option).
    case client(String)
    /// The body passed the request's `maxResponseBytes`; the transfer was abandoned there.
    case responseTooLarge(limit: Int)
    /// One server-sent event (a line, or the data lines of one event) passed `limit` bytes.
    case eventTooLarge(limit: Int)

    /// Whether another attempt might succeed.
    public var isTransient: Bool {
        switch self {
        case .connection, .interrupted, .timedOut, .responseTooLarge, .eventTooLarge: true
        case .invalidRequest, .cancelled, .client: false
        }
    }
}

extension HTTPError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidRequest(let message): "invalid HTTP request: \(message)"
        case .connection(let message): "connection failed: \(message)"
        case .interrupted(let message): "response interrupted: \(message)"
        case .timedOut: "timed out"
        case .cancelled: "cancelled"
        case .client(let message): "HTTP client error: \(message)"
        case .responseTooLarge(let limit): "the response is larger than \(limit) bytes"
        case .eventTooLarge(let limit): "a server-sent event is longer than \(limit) bytes"
        }
    }
}
