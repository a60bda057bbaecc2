import Dispatch

/// Sends HTTP requests from async code. All requests of one client share one
/// thread and one connection cache (libcurl's multi interface), so a hundred
/// requests in flight cost one thread and keep-alive connections are reused.
///
/// Cancelling the calling task abandons the transfer at once and throws `.cancelled`.
/// A 4xx or 5xx status is a response, not an error.
public final class HTTPClient: Sendable {
    /// The client for the whole process.
    public static let shared = HTTPClient()

    /// Starts making `shared` (libcurl's and OpenSSL's start, the client's thread) on a thread
    /// of its own, so that it is ready, or nearly, when the first call needs it; then OpenSSL's
    /// SHA-256 (`SHA256.prepare`), which a run hashes with before its first call for `--cache`
    /// and `--resume` and a `record: hashed` input, and its store's queue while that call is
    /// in flight (the run's spec, its fingerprints).
    /// Once a process: a second call does nothing.
    public static func prepareShared() {
        _ = prepared
    }

    private static let prepared: Void = {
        preparing.enter()
        startOnOwnThread {
            _ = shared
            SHA256.prepare()
            preparing.leave()
        }
    }()

    /// Waits until what `prepareShared` started is done (at once if nothing was started). The
    /// process must not exit meanwhile: `exit` ran OpenSSL's teardown beside its start on that
    /// thread, which crashed (SIGSEGV) a `pipe run` that ended before its first call, such as a
    /// `--resume` of no run. OpenSSL now starts without that teardown (`OpenSSL.started`); the
    /// wait stays, since nothing showed the crash gone without it.
    public static func finishPreparing() {
        preparing.wait()
    }

    private static let preparing = DispatchGroup()

    private let loop: CurlLoop

    public init() {
        loop = CurlLoop()
    }

    deinit {
        loop.shutdown()
    }

    /// The client's thread as an executor: tasks that prefer it run between the transfers,
    /// so a reply is read, checked and followed by the next request without waking
    /// another thread.
    public var executor: any TaskExecutor { loop }

    /// Sends `request` and returns the whole response.
    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await perform(request, onHead: nil, onChunk: nil)
    }

    /// Sends `request` and hands over the response as it arrives: `onHead` once with
    /// the status and headers, then `onChunk` for each piece of the body, whatever the
    /// status (an error status's body arrives in chunks too). Returns the status and
    /// headers with an empty body. `streamEvents` parses server-sent events on top of this.
    ///
    /// The callbacks run in order on the client's thread: they must be quick and must
    /// not block (feed a parser, yield to an `AsyncStream`). An error `onChunk` throws
    /// abandons the transfer and is what this throws.
    public func stream(
        _ request: HTTPRequest,
        onHead: @escaping @Sendable (_ status: Int, _ headers: HTTPHeaders) -> Void = { _, _ in },
        onChunk: @escaping @Sendable (_ chunk: [UInt8]) throws(HTTPError) -> Void
    ) async throws(HTTPError) -> HTTPResponse {
        try await perform(request, onHead: onHead, onChunk: onChunk)
    }

    private func perform(
        _ request: HTTPRequest,
        onHead: (@Sendable (Int, HTTPHeaders) -> Void)?,
        onChunk: (@Sendable ([UInt8]) throws(HTTPError) -> Void)?
    ) async throws(HTTPError) -> HTTPResponse {
        if Task.isCancelled { throw .cancelled }
        let loop = self.loop
        let transfer = try CurlTransfer(request, easy: loop.makeHandle(), onHead: onHead, onChunk: onChunk)
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                loop.submit(transfer, continuation: continuation)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return try outcome.get()
    }
}
