/// Sends finished spans to an OTLP/HTTP collector, off the run's path: `enqueue` only appends to a
/// bounded queue (a full queue drops the span and counts it); one task of the exporter's own
/// takes the spans in batches (when a batch fills, after `scheduleDelay`, at `shutdown`),
/// encodes them and posts them on an HTTP client of its own, whose thread is not the one the
/// model calls use. A collector that fails is one warning at the end, never an error of the run.
public final class OTLPExporter: Sendable {
    public let configuration: OTLPConfiguration

    private struct State {
        var queue: [OTLPSpan] = []
        var closing = false
        var dropped = 0
        var sent = 0
        var failed = 0
        /// In flight when the flush deadline passed.
        var abandoned = 0
        /// The first failure, in words: the one warning.
        var firstFailure: String?
        var worker: Task<Void, Never>?
    }

    private let state = Locked(State())
    private let wakeup = Wakeup()
    private let client: HTTPClient

    public init(configuration: OTLPConfiguration) {
        self.configuration = configuration
        client = HTTPClient()
        let worker = Task.detached { [self] in await work() }
        state.withLock { $0.worker = worker }
    }

    /// Queues a finished span for export; returns at once.
    public func enqueue(_ span: OTLPSpan) {
        let full = state.withLock { state -> Bool in
            guard !state.closing || state.worker != nil else { return false }
            guard state.queue.count < configuration.maxQueueSize else {
                state.dropped += 1
                return false
            }
            state.queue.append(span)
            return state.queue.count == configuration.maxBatchSize
        }
        if full { wakeup.signal() }
    }

    /// What became of the spans, for the warning and for tests.
    public struct Summary: Sendable, Equatable {
        public var sent: Int
        /// Not accepted by the collector, or never answered.
        public var failed: Int
        /// Not queued: the queue was full.
        public var dropped: Int
        /// Still queued or in flight when the flush deadline passed.
        public var abandoned: Int
    }

    /// Sends what is queued, waiting `configuration.flushDeadline` at most, then stops; returns
    /// what happened and, when spans were lost, the one line to warn with.
    public func shutdown() async -> (summary: Summary, warning: String?) {
        let worker = state.withLock { state -> Task<Void, Never>? in
            state.closing = true
            return state.worker
        }
        wakeup.signal()
        var timedOut = false
        if let worker {
            timedOut = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await worker.value; return false }
                group.addTask { [deadline = configuration.flushDeadline] in
                    (try? await Task.sleep(for: deadline)) != nil
                }
                let first = await group.next() ?? false
                // Past the deadline the export in flight is abandoned (its transfer ends at once).
                if first { worker.cancel() }
                group.cancelAll()
                return first
            }
            await worker.value
        }
        let (summary, failure) = state.withLock { state in
            let abandoned = state.queue.count + state.abandoned
            state.queue.removeAll()
            state.worker = nil
            return (Summary(sent: state.sent, failed: state.failed, dropped: state.dropped, abandoned: abandoned), state.firstFailure)
        }
        return (summary, warning(summary, failure: failure, timedOut: timedOut))
    }

    private func warning(_ summary: Summary, failure: String?, timedOut: Bool) -> String? {
        var parts: [String] = []
        let target = HTTPRedaction.urlWithoutQuery(configuration.url)
        if let failure { parts.append("spans could not be exported to \(target): \(failure)") }
        if timedOut {
            parts.append(
                "the collector at \(target) did not take the last spans within \(DurationFormat.short(configuration.flushDeadline)) of the end (OTEL_BSP_EXPORT_TIMEOUT)")
        }
        if summary.dropped > 0 {
            parts.append("\(summary.dropped) spans were dropped: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE=\(configuration.maxQueueSize))")
        }
        guard !parts.isEmpty else { return nil }
        let lost = summary.failed + summary.dropped + summary.abandoned
        return "pipe: OpenTelemetry: " + parts.joined(separator: "; ") + " (\(lost) of \(lost + summary.sent) spans not exported; the run is not affected)"
    }

    // MARK: - The export task

    private func work() async {
        while true {
            let closing = state.withLock { $0.closing }
            if !closing { await wakeup.wait(upTo: configuration.scheduleDelay) }
            while let batch = takeBatch() {
                if Task.isCancelled {
                    state.withLock { $0.queue.insert(contentsOf: batch, at: 0) }
                    return
                }
                await send(batch)
            }
            if state.withLock({ $0.closing && $0.queue.isEmpty }) || Task.isCancelled { return }
        }
    }

    private func takeBatch() -> [OTLPSpan]? {
        state.withLock { state in
            guard !state.queue.isEmpty else { return nil }
            let count = min(configuration.maxBatchSize, state.queue.count)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
    }

    private func send(_ batch: [OTLPSpan]) async {
        let body: [UInt8]
        let contentType: String
        switch configuration.encoding {
        case .protobuf: (body, contentType) = (OTLPProtobuf.request(batch, resource: configuration.resource), "application/x-protobuf")
        case .json: (body, contentType) = (OTLPJSON.request(batch, resource: configuration.resource), "application/json")
        }
        var headers = HTTPHeaders(configuration.headers)
        headers.set(name: "Content-Type", value: contentType)
        headers.set(name: "User-Agent", value: "pipe/\(PipeVersion.current)")
        let request = HTTPRequest(
            url: configuration.url, headers: headers, body: body, timeout: configuration.timeout,
            connectTimeout: min(configuration.timeout, .seconds(5)), maxResponseBytes: 64 * 1024)
        let failure: String?
        do {
            let response = try await client.send(request)
            // A partial success (some spans rejected) is still a 200: those are not counted.
            failure = response.isSuccess ? nil : "the collector answered HTTP \(response.status)"
        } catch {
            if Task.isCancelled {
                // Abandoned at the flush deadline: not the collector's failure.
                state.withLock { $0.abandoned += batch.count }
                return
            }
            failure = "\(error)"
        }
        state.withLock { state in
            if let failure {
                state.failed += batch.count
                if state.firstFailure == nil { state.firstFailure = failure }
            } else {
                state.sent += batch.count
            }
        }
    }
}

/// Wakes the export task early: one waiter at a time; a signal with nobody waiting is kept
/// for the next wait.
private final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Locked(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when signalled, after `timeout`, or when the task is cancelled.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.signalled() }
            await group.next()
            group.cancelAll()
        }
    }

    private func signalled() async {
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || state.generation != generation || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.generation += 1
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
