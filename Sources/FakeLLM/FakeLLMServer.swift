import Foundation

/// A real HTTP/1.1 server on 127.0.0.1 that answers like Anthropic's Messages API
/// (`POST /v1/messages`) and OpenAI's Chat Completions API (`POST /v1/chat/completions`),
/// streamed or not, with replies and faults chosen per request by a handler.
///
///     let server = FakeLLMServer { request in
///         request.callNumber == 1 ? .error(status: 500) : .text(#"{"ok": true}"#)
///     }
///     let port = try server.start()
///     defer { server.stop() }
///
/// One thread accepts connections and one thread serves each connection, with
/// keep-alive. Every request is logged with its arrival and completion times.
///
/// It also serves both providers' batch APIs (`FakeBatches`): Anthropic Message Batches and
/// OpenAI Batch with its Files API, each batched request answered by the same handler;
/// `setBatchOptions` sets the turnaround, expired requests and limits, `batches` logs them.
public final class FakeLLMServer: Sendable {
    public typealias Handler = @Sendable (FakeRequest) -> FakeReply

    public enum StartError: Error, Sendable {
        case alreadyStarted
        case cannotListen(port: Int, errno: Int32)
    }

    private struct State {
        var handler: Handler
        var listener: Int32?
        var port = 0
        var stopped = false
        var openConnections: Set<Int32> = []
        var connectionsAccepted = 0
        var log: [FakeLogEntry] = []
        /// Entries ever logged, across `resetLog`: the next entry's id.
        var entriesLogged = 0
        /// The entries whose reply has not ended yet, and the most there were at once.
        var inFlight: Set<Int> = []
        var maxInFlight = 0
    }

    private let state: Locked<State>
    private let batchAPIs = FakeBatches()
    private let acceptLoopDone = DispatchSemaphore(value: 0)

    /// A server whose replies `handler` decides.
    public init(handler: @escaping Handler = FakeLLMServer.defaultReply) {
        state = Locked(State(handler: handler))
    }

    /// A server that gives every request `reply`.
    public convenience init(reply: FakeReply) {
        self.init { _ in reply }
    }

    /// A server that gives the n-th request `replies[n-1]`, and the last one to every
    /// request after that: `[.error(status: 500), .text("ok")]` fails once, then succeeds.
    public convenience init(script replies: [FakeReply]) {
        precondition(!replies.isEmpty, "a script needs at least one reply")
        self.init { request in replies[min(request.callNumber, replies.count) - 1] }
    }

    /// Replaces the handler for the requests that arrive from now on.
    public func setHandler(_ handler: @escaping Handler) {
        state.withLock { $0.handler = handler }
    }

    /// The default handler: a minimal JSON value matching the requested schema when the
    /// request carries one, otherwise a short text.
    public static let defaultReply: Handler = { request in
        if let schema = request.replySchemaValue { return .text(SchemaExample.text(of: schema)) }
        return .text("fake reply \(request.callNumber)")
    }

    // MARK: - Lifecycle

    /// Starts listening on 127.0.0.1 and returns the port (`port` 0: an ephemeral one).
    /// A server starts once: after `stop()` make a new one.
    @discardableResult
    public func start(port: Int = 0) throws(StartError) -> Int {
        let started: Result<(Int32, Int), StartError> = state.withLock { state in
            guard state.listener == nil, !state.stopped else { return .failure(.alreadyStarted) }
            guard let (fd, actual) = Socket.listen(port: port) else { return .failure(.cannotListen(port: port, errno: errno)) }
            state.listener = fd
            state.port = actual
            return .success((fd, actual))
        }
        let (listener, actualPort) = try started.get()
        let thread = Thread { [self] in acceptLoop(listener) }
        thread.name = "fake-llm-accept"
        thread.start()
        return actualPort
    }

    /// Closes the listening socket and every connection (hung ones included). Idempotent.
    public func stop() {
        let listener: Int32? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            for fd in state.openConnections { Socket.shutdownBoth(fd) }
            return state.listener
        }
        guard let listener else { return }
        Socket.shutdownBoth(listener)
        acceptLoopDone.wait()
        Socket.close(listener)
    }

    public var port: Int { state.withLock { $0.port } }

    /// `http://127.0.0.1:PORT`, the base URL for Anthropic (`ANTHROPIC_BASE_URL`).
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `http://127.0.0.1:PORT/v1`, the base URL for OpenAI (`OPENAI_BASE_URL`).
    public var openAIBaseURL: String { baseURL + "/v1" }

    // MARK: - Batches

    /// Sets how the batch APIs behave (turnaround, expired requests, limits) for the batches
    /// created from now on.
    public func setBatchOptions(_ options: FakeBatchOptions) {
        batchAPIs.setOptions(options)
    }

    /// Every batch created so far (either API), in order of creation: kept across `resetLog`.
    public var batches: [FakeBatchRecord] { batchAPIs.records }

    // MARK: - Log

    /// Every request received so far, in order of arrival.
    public var log: [FakeLogEntry] { state.withLock { $0.log } }

    /// The number of requests received so far.
    public var requestCount: Int { state.withLock { $0.log.count } }

    /// The number of TCP connections accepted so far: fewer than requests means reuse.
    public var connectionsAccepted: Int { state.withLock { $0.connectionsAccepted } }

    /// The most requests the server was answering at once (each from its arrival to the end
    /// of its reply, which is recorded before the reply's last bytes go out), since the start
    /// or `resetLog`.
    public var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// Forgets the log and the counts (not the open connections); call numbers start
    /// again at 1. A reply still in flight is no longer recorded.
    public func resetLog() {
        state.withLock {
            $0.log = []
            $0.connectionsAccepted = 0
            $0.maxInFlight = $0.inFlight.count
        }
    }

    private func updateEntry(_ id: Int, _ update: (inout FakeLogEntry) -> Void) {
        state.withLock { state in
            guard let index = state.log.lastIndex(where: { $0.id == id }) else { return }
            update(&state.log[index])
        }
    }

    // MARK: - Serving

    private func acceptLoop(_ listener: Int32) {
        defer { acceptLoopDone.signal() }
        while let fd = Socket.accept(listener) {
            let number: Int? = state.withLock { state in
                guard !state.stopped else { return nil }
                state.openConnections.insert(fd)
                state.connectionsAccepted += 1
                return state.connectionsAccepted
            }
            guard let number else {
                Socket.close(fd)
                return
            }
            let thread = Thread { [self] in serve(fd, connectionNumber: number) }
            thread.name = "fake-llm-connection"
            thread.start()
        }
    }

    private func serve(_ fd: Int32, connectionNumber: Int) {
        defer {
            state.withLock { state in
                state.openConnections.remove(fd)
                Socket.close(fd)
            }
        }
        var reader = RequestReader(fd: fd)
        while true {
            let message: RequestReader.Message
            do {
                message = try reader.next()
            } catch {
                if case .malformed(let reason) = error {
                    Socket.write(fd, ResponseWriter.plain(status: 400, body: reason))
                }
                return
            }
            // The request has arrived once its last byte is read: parsing it is the server's
            // work, within the reply's latency. Parse outside the lock; number the request and
            // log it under the lock.
            let arrival = ContinuousClock.now
            var request = FakeRequest(
                method: message.method, target: message.target, headers: message.headers, body: message.body,
                callNumber: 0, connectionNumber: connectionNumber)
            let (entryID, handler) = state.withLock { state in
                request.callNumber = state.log.count + 1
                state.entriesLogged += 1
                state.log.append(FakeLogEntry(id: state.entriesLogged, request: request, arrival: arrival))
                state.inFlight.insert(state.entriesLogged)
                state.maxInFlight = max(state.maxInFlight, state.inFlight.count)
                return (state.entriesLogged, state.handler)
            }
            let reply =
                batchAPIs.reply(to: request, handler: handler)
                ?? (request.api == .other ? .error(status: 404, message: "no route for \(request.method) \(request.path)") : handler(request))
            var answered = request
            answered.answeredBy = reply.answeringModel
            let writer = ResponseWriter(
                fd: fd, request: answered, answerAt: arrival + reply.latency, isPunctual: reply.isPunctual,
                onStatus: { [self] status in
                    updateEntry(entryID) { $0.status = status }
                },
                onEnd: { [self] completed in
                    state.withLock { _ = $0.inFlight.remove(entryID) }
                    updateEntry(entryID) { entry in
                        entry.completion = .now
                        entry.completed = completed
                    }
                })
            let completed = writer.send(reply, isStopped: { [self] in state.withLock { $0.stopped } })
            guard completed, message.keepAlive else { return }
        }
    }
}
