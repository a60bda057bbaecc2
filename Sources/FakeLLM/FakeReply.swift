/// What the fake server does with one request. Build one with the static
/// conveniences and adjust it with the modifiers:
///
///     .text(#"{"title": "T"}"#).delayed(by: .milliseconds(100))
///     .rateLimited(retryAfter: "2")
///     .cutStream(afterEvents: 3)
public struct FakeReply: Sendable {
    public enum Action: Sendable {
        /// The model answers `text`: shaped as the request's API expects (a text block, or a
        /// `tool_use` block when a tool is forced), streamed when the request asks to stream.
        case answer(text: String, stopReason: StopReason)
        /// The model answers these blocks, in order, in the request's API shape.
        case content(blocks: [Block], stopReason: StopReason)
        /// An error status with a body in the request's API error shape.
        case error(status: Int, type: String?, message: String)
        /// Exactly these bytes after the head.
        case raw(status: Int, contentType: String, body: [UInt8])
        /// Read the request, then never answer, until the client gives up or the server stops.
        case hang
        /// Start the answer, then close the connection: a streamed reply after `afterEvents`
        /// SSE events, a plain one after half its body.
        case cut(text: String, afterEvents: Int)
        /// Start the answer as `cut` does, then send nothing more and keep the connection
        /// open until the client gives up: a stream that stalls.
        case stall(text: String, afterEvents: Int)
        /// A streamed reply that sends `afterEvents` events, then an error event (as the
        /// real APIs do when overloaded mid-stream), then ends the stream cleanly. A request
        /// that does not stream gets the error as a status instead (529 if overloaded, else 500).
        case streamError(text: String, afterEvents: Int, type: String, message: String)
        /// `bytes` bytes of a 200 reply that never finishes its JSON value (a whole body whose
        /// `Content-Length` says `bytes`), or, as an event stream, its first line: written
        /// until all are sent or the client leaves, then the connection closes.
        case flood(bytes: Int, eventStream: Bool)
    }

    /// Why the model stopped, mapped to each API's vocabulary.
    public enum StopReason: Sendable {
        /// Anthropic `end_turn`, OpenAI `stop`; `tool_use`/`tool_calls` when the reply calls a tool.
        case endTurn
        /// Anthropic `max_tokens`, OpenAI `length`.
        case maxTokens
    }

    /// A part of a reply: Anthropic's content block, OpenAI's content or tool call.
    public enum Block: Sendable {
        case text(String)
        /// A call of the tool `name` with `input`, JSON text (streamed in pieces as written).
        case toolUse(name: String, input: String)
    }

    public var action: Action
    /// Waited before the response head is sent.
    public var latency: Duration = .zero
    /// The end of `latency` is waited for awake, so the head leaves on time (see `punctual`).
    public var isPunctual = false
    /// Waited between two events of a streamed reply.
    public var eventDelay: Duration = .zero
    /// Characters of text per streamed delta event.
    public var deltaSize: Int = 8
    /// Answers with one JSON body even when the request asks to stream.
    public var ignoresStreaming = false
    /// Extra response headers.
    public var headers: [(name: String, value: String)] = []
    /// The `model` the reply names; nil: the one the request asked for.
    public var answeringModel: String?

    public init(_ action: Action) {
        self.action = action
    }

    // MARK: - Conveniences

    /// The model answers `text` (plain text, or the JSON a structured stage expects).
    public static func text(_ text: String) -> FakeReply {
        FakeReply(.answer(text: text, stopReason: .endTurn))
    }

    /// The model answers with these blocks (text and tool calls, in order).
    public static func blocks(_ blocks: [Block]) -> FakeReply {
        FakeReply(.content(blocks: blocks, stopReason: .endTurn))
    }

    /// The model answers `text` and stops because it reached `max_tokens`.
    public static func truncated(_ text: String) -> FakeReply {
        FakeReply(.answer(text: text, stopReason: .maxTokens))
    }

    /// An error status with an API-shaped error body. The error type defaults to the
    /// one the API uses for that status.
    public static func error(status: Int, message: String = "fake error", type: String? = nil) -> FakeReply {
        FakeReply(.error(status: status, type: type, message: message))
    }

    /// 429 with `Retry-After: retryAfter` (seconds or an HTTP date) and a rate-limit error body.
    public static func rateLimited(retryAfter: String = "1") -> FakeReply {
        FakeReply(.error(status: 429, type: nil, message: "rate limited")).header("Retry-After", retryAfter)
    }

    /// Never answers.
    public static var hang: FakeReply { FakeReply(.hang) }

    /// A body that is not JSON, such as a proxy's HTML error page.
    public static func notJSON(_ body: String = "<html><body>502 Bad Gateway</body></html>", status: Int = 200) -> FakeReply {
        FakeReply(.raw(status: status, contentType: "text/html", body: Array(body.utf8)))
    }

    /// Exactly `body` with `status`.
    public static func raw(status: Int, contentType: String = "application/json", body: String) -> FakeReply {
        FakeReply(.raw(status: status, contentType: contentType, body: Array(body.utf8)))
    }

    /// Starts answering `text`, then closes the connection mid-way.
    public static func cutStream(text: String = "this reply will be cut short", afterEvents: Int = 3) -> FakeReply {
        FakeReply(.cut(text: text, afterEvents: afterEvents))
    }

    /// Starts answering `text`, then stalls without closing the connection.
    public static func stallStream(text: String = "this reply will stall", afterEvents: Int = 3) -> FakeReply {
        FakeReply(.stall(text: text, afterEvents: afterEvents))
    }

    /// Starts streaming `text`, then sends an error event instead of the rest.
    public static func errorMidStream(
        text: String = "this reply will fail part-way", afterEvents: Int = 3,
        type: String = "overloaded_error", message: String = "Overloaded"
    ) -> FakeReply {
        FakeReply(.streamError(text: text, afterEvents: afterEvents, type: type, message: message))
    }

    /// A whole JSON body of `bytes` bytes, far more than any reply: `{"pad": "xxxx...`.
    public static func hugeBody(bytes: Int) -> FakeReply {
        FakeReply(.flood(bytes: bytes, eventStream: false))
    }

    /// An event stream whose first line never ends: `data: {"pad": "xxxx...` for `bytes` bytes.
    public static func endlessEventLine(bytes: Int) -> FakeReply {
        FakeReply(.flood(bytes: bytes, eventStream: true))
    }

    /// `text` streamed one character per event, an event every `delay`: a reply that keeps
    /// coming, slowly (a streaming request; a plain one gets the whole body at once).
    public static func slowDrip(_ text: String, every delay: Duration) -> FakeReply {
        FakeReply.text(text).streamed(every: delay, deltaSize: 1)
    }

    // MARK: - Modifiers

    /// The same reply after `latency`.
    public func delayed(by latency: Duration) -> FakeReply {
        var copy = self
        copy.latency = latency
        return copy
    }

    /// The same reply, sent exactly when its latency ends: the last 0.25 ms are spent awake
    /// (yielding the processor) instead of asleep, since a sleeping thread wakes 50-150 µs late
    /// on a virtual machine and a benchmark would count that as the client's time. Costs a
    /// processor for that time, so only for benchmarks with few replies in flight.
    public func punctual() -> FakeReply {
        var copy = self
        copy.isPunctual = true
        return copy
    }

    /// The same reply, streamed with `delay` between events and `deltaSize` characters per delta.
    public func streamed(every delay: Duration, deltaSize: Int = 8) -> FakeReply {
        var copy = self
        copy.eventDelay = delay
        copy.deltaSize = max(1, deltaSize)
        return copy
    }

    /// The same reply as one JSON body, as a server that ignores `stream: true` sends it.
    public func unstreamed() -> FakeReply {
        var copy = self
        copy.ignoresStreaming = true
        return copy
    }

    /// The same reply naming `model` as the one that answered (as the real APIs name a dated
    /// version of an alias), whatever the request asked for.
    public func answered(by model: String) -> FakeReply {
        var copy = self
        copy.answeringModel = model
        return copy
    }

    /// The same reply with one more response header.
    public func header(_ name: String, _ value: String) -> FakeReply {
        var copy = self
        copy.headers.append((name, value))
        return copy
    }
}

extension FakeRequest {
    /// The blocks of an answer `text`: a call of the forced tool, if any, else text.
    func blocks(answering text: String) -> [FakeReply.Block] {
        forcedTool.map { [.toolUse(name: $0, input: text)] } ?? [.text(text)]
    }
}

extension [FakeReply.Block] {
    /// The text and tool inputs, for token counts.
    var written: String {
        map { block in
            switch block {
            case .text(let text): text
            case .toolUse(_, let input): input
            }
        }.joined()
    }

    var callsATool: Bool {
        contains { if case .toolUse = $0 { true } else { false } }
    }
}
