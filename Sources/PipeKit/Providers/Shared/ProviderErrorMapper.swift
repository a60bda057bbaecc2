import Foundation

/// Gives what the HTTP layer reports its meaning as a `ProviderError`: the one place where
/// statuses, API error bodies, error events and transport failures are interpreted, and
/// where the API key is scrubbed from every message (a server may echo it back).
struct ProviderErrorMapper: Sendable {
    let provider: Provider
    let apiKey: APIKey?

    /// A transfer that produced no complete response.
    func map(_ error: HTTPError) -> ProviderError {
        switch error {
        case .timedOut: .timedOut
        case .cancelled: .cancelled
        case .connection(let message), .interrupted(let message), .client(let message): .transport(redact(message))
        case .invalidRequest(let message): .invalidRequest(redact(message))
        case .responseTooLarge(let limit):
            .invalidResponse("the reply is larger than \(limit) bytes, the cap for its max_tokens (1 KiB a token, at least 1 MiB)")
        case .eventTooLarge(let limit): .invalidResponse("an event of the stream is longer than \(limit) bytes, the cap for one event")
        }
    }

    /// A response with a non-2xx status: the message from the API's error body
    /// (`{"error": {"message": ...}}` for both APIs), the wait from `Retry-After`.
    func map(_ response: HTTPResponse) -> ProviderError {
        .status(code: response.status, provider: provider, message: message(fromErrorBody: response.body), retryAfter: response.retryAfter())
    }

    /// An error reported inside a 2xx event stream (Anthropic's `error` event, an OpenAI
    /// chunk with an `error` member), such as `overloaded_error` part-way through a reply.
    /// It becomes the status the same error has when it comes as a response, so it is
    /// transient exactly when that status is.
    func streamError(_ body: JSONValue) -> ProviderError {
        let error = body["error"]
        let type = error?["type"]?.stringValue ?? error?["code"]?.stringValue
        let message = error?["message"]?.stringValue ?? error?.stringValue ?? body.serialized()
        return .status(
            code: Self.status(ofErrorType: type), provider: provider,
            message: redact(Self.clipped("\(type.map { "\($0) " } ?? "")mid-stream: \(message)")), retryAfter: nil)
    }

    /// A 2xx answer that is not what the API promises.
    func invalidResponse(_ message: String) -> ProviderError {
        .invalidResponse(redact(message))
    }

    /// The human part of an error body: `error.message`, a string `error` (Ollama),
    /// `message` or `detail` (FastAPI servers), else the start of the body itself.
    func message(fromErrorBody body: [UInt8]) -> String {
        let text: String
        if let json = try? JSONParser.parse(body) {
            text = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue
                ?? json["detail"]?.stringValue ?? json.serialized()
        } else {
            text = String(decoding: body, as: UTF8.self)
        }
        return redact(Self.clipped(text))
    }

    /// `text` with every occurrence of the API key replaced.
    func redact(_ text: String) -> String {
        guard let key = apiKey?.value, !key.isEmpty else { return text }
        return text.replacingBytes(of: key, with: "<redacted>")
    }

    /// One line of at most 300 characters.
    static func clipped(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).map(\.trimmingSpaces).joined(separator: " ")
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }

    /// The HTTP status each API gives an error type.
    static func status(ofErrorType type: String?) -> Int {
        switch type {
        case "invalid_request_error": 400
        case "authentication_error", "invalid_api_key": 401
        case "permission_error": 403
        case "not_found_error": 404
        case "request_too_large": 413
        case "rate_limit_error", "rate_limit_exceeded": 429
        case "timeout_error": 504
        case "overloaded_error": 529
        default: 500
        }
    }
}
