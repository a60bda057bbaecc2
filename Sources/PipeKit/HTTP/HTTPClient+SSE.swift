extension HTTPClient {
    /// Sends `request` and parses a 2xx `text/event-stream` response as it arrives,
    /// calling `onEvent` for each complete server-sent event, in order, on the client's
    /// thread (so it must be quick). Returns the status and headers; the body is empty
    /// for an event stream, and holds the whole body of any other response (an error
    /// status, or a server that answered with plain JSON) for the caller to read.
    /// A line or an event longer than `maxEventBytes` abandons the transfer (`.eventTooLarge`).
    public func streamEvents(
        _ request: HTTPRequest,
        maxEventBytes: Int = .max,
        onEvent: @escaping @Sendable (SSEEvent) -> Void
    ) async throws(HTTPError) -> HTTPResponse {
        let state = Locked(EventStreamState(parser: SSEParser(maxEventBytes: maxEventBytes)))
        var response = try await stream(
            request,
            onHead: { status, headers in state.withLock { $0.isEventStream = EventStreamState.isEventStream(status, headers) } },
            onChunk: { chunk throws(HTTPError) in
                let (events, overflowed) = state.withLock { state in
                    guard state.isEventStream else {
                        state.otherBody += chunk
                        return ([SSEEvent](), false)
                    }
                    return (state.parser.feed(chunk), state.parser.overflowed)
                }
                for event in events { onEvent(event) }
                if overflowed { throw .eventTooLarge(limit: maxEventBytes) }
            })
        response.body = state.withLock { $0.otherBody }
        return response
    }

    /// Sends `request` and keeps a 2xx `text/event-stream` body as it arrives, unparsed: the
    /// client's thread only appends each piece, and the caller parses the events once the
    /// transfer has ended (`ReceivedEvents.events()`), on a thread of its choosing. For a
    /// caller that needs no event before the last one (nothing shows the reply as it grows).
    ///
    /// What the caller gets is what `streamEvents` would have delivered: the events of the
    /// bytes that arrived, also when the transfer then failed; the whole body of a response
    /// that is not an event stream. A line or an event longer than `maxEventBytes` abandons
    /// the transfer at the same byte (`.eventTooLarge`): once more than `maxEventBytes` bytes
    /// have arrived, where such a line becomes possible, the rest is parsed as it comes.
    public func receiveEvents(_ request: HTTPRequest, maxEventBytes: Int = .max) async -> ReceivedEvents {
        let state = Locked(EventStreamState(parser: SSEParser(maxEventBytes: maxEventBytes)))
        let outcome: Result<HTTPResponse, HTTPError>
        do {
            var response = try await stream(
                request,
                onHead: { status, headers in state.withLock { $0.isEventStream = EventStreamState.isEventStream(status, headers) } },
                onChunk: { chunk throws(HTTPError) in
                    if state.withLock({ $0.keep(chunk) }) { throw .eventTooLarge(limit: maxEventBytes) }
                })
            response.body = state.withLock { $0.otherBody }
            outcome = .success(response)
        } catch {
            outcome = .failure(error)
        }
        return ReceivedEvents(outcome: outcome, stream: state.withLock { $0 })
    }
}

/// What `HTTPClient.receiveEvents` received: the transfer's outcome, and the event stream's
/// bytes, parsed on demand.
public struct ReceivedEvents: Sendable {
    /// The response (the whole body when it is not an event stream, else empty) or the
    /// transfer's failure.
    public let outcome: Result<HTTPResponse, HTTPError>
    fileprivate var stream: EventStreamState

    /// The complete events of the stream, in order (none when the response was not an event
    /// stream): parses whatever the transfer kept unparsed.
    public mutating func events() -> [SSEEvent] {
        stream.parseKept()
        return stream.events
    }
}

private struct EventStreamState: Sendable {
    var isEventStream = false
    var parser: SSEParser
    var otherBody: [UInt8] = []
    /// Bytes of the event stream not parsed yet (`receiveEvents`).
    var kept: [UInt8] = []
    /// Events parsed, not handed over yet (`receiveEvents`).
    var events: [SSEEvent] = []
    /// More than `maxEventBytes` have arrived: each piece is parsed as it comes (`receiveEvents`).
    var parsing = false

    static func isEventStream(_ status: Int, _ headers: HTTPHeaders) -> Bool {
        let contentType = headers["content-type"]?.lowercased() ?? ""
        return (200..<300).contains(status) && contentType.hasPrefix("text/event-stream")
    }

    /// Keeps `chunk`; returns whether a line or an event went past the parser's limit.
    mutating func keep(_ chunk: [UInt8]) -> Bool {
        guard isEventStream else {
            otherBody += chunk
            return false
        }
        if parsing {
            events += parser.feed(chunk)
        } else {
            if kept.isEmpty { kept = chunk } else { kept += chunk }
            // No line or event can be longer than everything received.
            guard kept.count > parser.maxEventBytes else { return false }
            parseKept()
        }
        return parser.overflowed
    }

    /// Parses the bytes kept so far; from then on, pieces are parsed as they come.
    mutating func parseKept() {
        guard !parsing else { return }
        parsing = true
        events += parser.feed(kept)
        kept = []
    }
}
