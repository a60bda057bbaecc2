/// Reads a streamed reply event by event.
protocol StreamedReplyReader: Sendable {
    init()
    /// Reads one event; returns whether the reply grew.
    mutating func read(_ event: SSEEvent) -> Bool
    /// Characters of the reply so far, for progress.
    var characters: Int { get }
    /// The body of an error the server reported inside the stream.
    var error: JSONValue? { get }
}

/// One streamed HTTP exchange with a model API: sends the request, feeds the events to a
/// reader, reports progress, and turns every failure into a `ProviderError`.
enum StreamingCall {
    /// The reader after the last event and the response. A 2xx response that was not an
    /// event stream (a server that ignored `stream: true`) has its whole body in `body`.
    static func run<Reader: StreamedReplyReader>(
        _ httpRequest: HTTPRequest,
        client: HTTPClient,
        mapper: ProviderErrorMapper,
        reader: Reader.Type,
        progress: @escaping @Sendable (StreamProgress) -> Void
    ) async throws(ProviderError) -> (reader: Reader, response: HTTPResponse) {
        let state = Locked(Reader())
        let response: HTTPResponse
        do {
            response = try await client.streamEvents(httpRequest, maxEventBytes: ReplyLimit.eventBytes) { event in
                let characters: Int? = state.withLock { reader in reader.read(event) ? reader.characters : nil }
                if let characters { progress(StreamProgress(characters: characters)) }
            }
        } catch {
            // An error event usually ends the stream; if the connection broke after it,
            // the event says more than the broken connection.
            if error != .cancelled, let event = state.withLock({ $0.error }) { throw mapper.streamError(event) }
            throw mapper.map(error)
        }
        guard response.isSuccess else { throw mapper.map(response) }
        let reader = state.withLock { $0 }
        if let event = reader.error { throw mapper.streamError(event) }
        return (reader, response)
    }

    /// The error for a stream that ended cleanly but before the reply was complete.
    static let incomplete = ProviderError.transport("the stream ended before the reply was complete")
}

/// How large a reply may be, so that a broken or hostile server cannot fill the memory or
/// hold an attempt past its timeout by sending without end. Going past a limit fails the
/// attempt as a malformed reply (`invalidResponse`, retried).
enum ReplyLimit {
    /// The whole body: 1 KiB per `max_tokens` token (a streamed token comes with 100 to 300
    /// bytes of event framing), and at least 1 MiB.
    static func bodyBytes(maxTokens: Int) -> Int {
        let bytes = maxTokens.multipliedReportingOverflow(by: 1024)
        return bytes.overflow ? Int.max : max(minimumBodyBytes, bytes.partialValue)
    }

    static let minimumBodyBytes = 1 << 20

    /// One line, or the data of one event, of an event stream.
    static let eventBytes = 1 << 20
}
