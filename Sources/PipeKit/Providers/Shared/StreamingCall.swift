/// Reads a streamed reply event by event.
protocol StreamedReplyReader: Sendable {
    init()
    /// Reads one event; returns whether the reply grew.
    mutating func read(_ event: SSEEvent) -> Bool
    /// Characters of the reply so far, for progress.
    var characters: Int { get }
    /// The body of an error the server reported inside the stream.
    var error: JSONValue? { get }
    /// The stream has said it is complete.
    var finished: Bool { get }
    /// A data line that was not JSON, kept for the error message.
    var malformed: String? { get }
    /// The member a whole (not streamed) reply has at its root, and what such a reply is called.
    static var wholeReply: (member: String, name: String) { get }
    /// Reads a whole reply, from a server that did not stream.
    mutating func read(whole reply: JSONValue)
}

/// One streamed HTTP exchange with a model API: sends the request, feeds the events to a
/// reader, reports progress, and turns every failure into a `ProviderError`.
///
/// Two ways, one result: with `live` progress (a terminal shows the reply as it grows), each
/// event is read as it arrives, on the HTTP client's thread; without, the client's thread
/// only keeps the bytes, and the events are read once the transfer has ended, off that
/// thread (`pipe run` stages prefer it), so that it is free sooner for the other calls'
/// replies and requests. The reply, its errors and its limits are the same either way.
enum StreamingCall {
    /// The reader after the last event, or after the whole reply of a server that ignored
    /// `stream: true`; a stream that ended before the reply was complete fails.
    static func run<Reader: StreamedReplyReader>(
        _ httpRequest: HTTPRequest,
        client: HTTPClient,
        mapper: ProviderErrorMapper,
        reader: Reader.Type,
        live: Bool,
        progress: @escaping @Sendable (StreamProgress) -> Void
    ) async throws(ProviderError) -> Reader {
        guard live else {
            let received = await client.receiveEvents(httpRequest, maxEventBytes: ReplyLimit.eventBytes)
            return try await withTaskExecutorPreference(globalConcurrentExecutor) { () throws(ProviderError) -> Reader in
                var received = received
                var reader = Reader()
                for event in received.events() { _ = reader.read(event) }
                return try reply(reader, after: received.outcome, mapper: mapper, progress: progress, reportEvents: true)
            }
        }
        let state = Locked(Reader())
        let outcome: Result<HTTPResponse, HTTPError>
        do {
            outcome = .success(try await client.streamEvents(httpRequest, maxEventBytes: ReplyLimit.eventBytes) { event in
                let characters: Int? = state.withLock { reader in reader.read(event) ? reader.characters : nil }
                if let characters { progress(StreamProgress(characters: characters)) }
            })
        } catch {
            outcome = .failure(error)
        }
        return try reply(state.withLock { $0 }, after: outcome, mapper: mapper, progress: progress, reportEvents: false)
    }

    /// The reader that has read the events of the transfer that ended with `outcome`, checked:
    /// the failure it tells (an error event before a broken connection says more than the
    /// broken connection), or the reader after a whole reply, or after a complete stream.
    /// `reportEvents`: the events' characters were not reported as they came.
    private static func reply<Reader: StreamedReplyReader>(
        _ reader: Reader, after outcome: Result<HTTPResponse, HTTPError>, mapper: ProviderErrorMapper,
        progress: @Sendable (StreamProgress) -> Void, reportEvents: Bool
    ) throws(ProviderError) -> Reader {
        let response: HTTPResponse
        switch outcome {
        case .success(let received): response = received
        case .failure(let error):
            if error != .cancelled, let event = reader.error { throw mapper.streamError(event) }
            throw mapper.map(error)
        }
        guard response.isSuccess else { throw mapper.map(response) }
        var reader = reader
        if let event = reader.error { throw mapper.streamError(event) }
        if !response.body.isEmpty {
            guard let reply = try? JSONParser.parse(response.body), reply[Reader.wholeReply.member] != nil else {
                throw mapper.invalidResponse(
                    "expected \(Reader.wholeReply.name) or an event stream, got: \(ProviderErrorMapper.clipped(response.text))")
            }
            reader.read(whole: reply)
            progress(StreamProgress(characters: reader.characters))
        } else if !reader.finished {
            if let malformed = reader.malformed { throw mapper.invalidResponse("an event is not JSON: \(malformed)") }
            throw incomplete
        } else if reportEvents, reader.characters > 0 {
            progress(StreamProgress(characters: reader.characters))
        }
        return reader
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
