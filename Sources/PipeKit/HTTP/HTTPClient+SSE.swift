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
            onHead: { status, headers in
                let contentType = headers["content-type"]?.lowercased() ?? ""
                state.withLock { $0.isEventStream = (200..<300).contains(status) && contentType.hasPrefix("text/event-stream") }
            },
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
}

private struct EventStreamState {
    var isEventStream = false
    var parser: SSEParser
    var otherBody: [UInt8] = []
}
