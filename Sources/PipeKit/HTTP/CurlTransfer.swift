import CLibraries
import Foundation
import Synchronization

/// One request in flight: its configured easy handle and the response as it arrives.
///
/// Ownership: the caller's task creates and configures it, then hands it to the
/// loop thread through `CurlLoop.submit`; from then on only the loop thread touches
/// the easy handle and the response fields (libcurl calls the C callbacks below on
/// that thread). `cancelRequested` is the one field other threads write.
final class CurlTransfer: @unchecked Sendable {
    typealias Outcome = Result<HTTPResponse, HTTPError>

    let request: HTTPRequest
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let onHead: (@Sendable (Int, HTTPHeaders) -> Void)?
    private let onChunk: (@Sendable ([UInt8]) throws(HTTPError) -> Void)?

    /// Set by any thread when the calling task is cancelled.
    let cancelRequested = Atomic<Bool>(false)

    // Loop thread only.
    var continuation: CheckedContinuation<Outcome, Never>?
    private var status = 0
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var headDelivered = false
    private var headerBlockEnded = false
    /// Bytes of body received so far, against `request.maxResponseBytes`.
    private var received = 0
    /// Why the transfer was abandoned from a callback (a body over its limit, or `onChunk`'s error).
    private var abandoned: HTTPError?

    /// A transfer of `request` on `easy`, a handle with default options (`CurlLoop.makeHandle`),
    /// which it owns from now on.
    init(
        _ request: HTTPRequest,
        easy: UnsafeMutableRawPointer?,
        onHead: (@Sendable (Int, HTTPHeaders) -> Void)?,
        onChunk: (@Sendable ([UInt8]) throws(HTTPError) -> Void)?
    ) throws(HTTPError) {
        self.request = request
        self.onHead = onHead
        self.onChunk = onChunk
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.easy = easy
        try configure()
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    /// Frees the easy handle and header list. The handle must not be in the multi.
    func releaseHandle() {
        if let easy = detachHandle() { pipe_curl_easy_cleanup(easy) }
    }

    /// Hands over the easy handle, for another transfer, and frees the header list. The handle
    /// must not be in the multi.
    func detachHandle() -> UnsafeMutableRawPointer? {
        defer { easy = nil }
        if let headerList { pipe_curl_slist_free_all(headerList) }
        headerList = nil
        return easy
    }

    // MARK: - Configuration

    private func configure() throws(HTTPError) {
        try HTTPRequestValidation.check(request)
        guard let easy else { throw .client("curl_easy_init failed") }
        let context = Unmanaged.passUnretained(self).toOpaque()
        var failed: CURLcode? = nil
        func check(_ code: CURLcode) {
            if code != CURLE_OK, failed == nil { failed = code }
        }

        check(pipe_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        check(pipe_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check(pipe_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        check(pipe_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        check(pipe_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, "pipe/\(PipeVersion.current)"))
        // A proxy's `CONNECT` reply is not the response head.
        check(pipe_curl_easy_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        // Local model servers (Ollama, vLLM) are reached directly even when a proxy is set.
        check(pipe_curl_easy_setopt_string(easy, CURLOPT_NOPROXY, Self.noProxy))
        check(pipe_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, context))
        check(pipe_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        check(pipe_curl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        check(pipe_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        check(pipe_curl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        check(pipe_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))

        switch request.method {
        case "GET" where request.body.isEmpty:
            check(pipe_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "HEAD" where request.body.isEmpty:
            check(pipe_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        default:
            // POST fields are always set for a POST, or libcurl would read the body from stdin.
            if request.method == "POST" || !request.body.isEmpty {
                check(pipe_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
                var bytes = request.body
                if bytes.isEmpty { bytes = [0] }
                bytes.withUnsafeMutableBytes { raw in
                    check(pipe_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, raw.baseAddress))
                }
            }
            if request.method != "POST" {
                check(pipe_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
            }
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers {
            // "Name;" is how libcurl sends a header with an empty value.
            let line = value.isEmpty ? "\(name);" : "\(name): \(value)"
            list = pipe_curl_slist_append(list, line)
        }
        // No `Expect: 100-continue` round trip, and no form content type libcurl would invent.
        if !request.headers.contains("Expect") { list = pipe_curl_slist_append(list, "Expect:") }
        if !request.headers.contains("Content-Type") { list = pipe_curl_slist_append(list, "Content-Type:") }
        headerList = list
        check(pipe_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        if let timeout = request.timeout {
            check(pipe_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout)))
        }
        if let connectTimeout = request.connectTimeout {
            check(pipe_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)))
        }
        if let failed {
            throw .client("cannot configure the transfer: \(String(cString: pipe_curl_easy_strerror(failed)))")
        }
    }

    /// The hosts reached without a proxy: the environment's `NO_PROXY` plus loopback.
    private static let noProxy: String = {
        let environment = ProcessInfo.processInfo.environment
        let configured = environment["NO_PROXY"] ?? environment["no_proxy"] ?? ""
        return ([configured, "localhost", "127.0.0.1", "::1"].filter { !$0.isEmpty }).joined(separator: ",")
    }()

    /// Whole milliseconds, at least 1: libcurl reads 0 as "no limit".
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        return max(1, Int(ms.partialValue + attoseconds / 1_000_000_000_000_000))
    }

    // MARK: - Callbacks (loop thread)

    private func receiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        let text = Self.trimmed(line[...])
        if text.starts(with: "HTTP/".utf8) {
            // A new response head: an interim 1xx, or the final one.
            let parts = text.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
            headers = HTTPHeaders()
            headerBlockEnded = false
        } else if text.isEmpty {
            headerBlockEnded = true
            if status >= 200 { deliverHead() }
        } else if headerBlockEnded {
            // Trailers after a chunked body: not part of the head.
        } else if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t"), let last = headers.fields.last {
            // An obsolete folded continuation line.
            headers.remove(name: last.name)
            headers.add(name: last.name, value: last.value + " " + String(decoding: text, as: UTF8.self))
        } else if let colon = text.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: Self.trimmed(text[..<colon]), as: UTF8.self)
            let value = String(decoding: Self.trimmed(text[(colon + 1)...]), as: UTF8.self)
            headers.add(name: name, value: value)
        }
        return line.count
    }

    private func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Int {
        if cancelRequested.load(ordering: .relaxed) { return 0 }  // aborts the transfer
        deliverHead()
        received += chunk.count
        if let limit = request.maxResponseBytes, received > limit {
            abandoned = .responseTooLarge(limit: limit)
            return 0
        }
        if let onChunk {
            do {
                try onChunk(Array(chunk))
            } catch {
                abandoned = error
                return 0
            }
        } else {
            body.append(contentsOf: chunk)
        }
        return chunk.count
    }

    private func deliverHead() {
        guard !headDelivered else { return }
        headDelivered = true
        onHead?(status, headers)
    }

    /// Without the spaces, tabs and line break around it.
    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var slice = bytes
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return slice
    }

    // MARK: - Completion (loop thread)

    /// The outcome of a transfer libcurl reports done with `code`.
    func outcome(of code: CURLcode) -> Outcome {
        if cancelRequested.load(ordering: .relaxed) { return .failure(.cancelled) }
        if let abandoned { return .failure(abandoned) }
        if code == CURLE_OK {
            var responseCode = 0
            if let easy { _ = pipe_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &responseCode) }
            deliverHead()
            return .success(HTTPResponse(
                status: responseCode != 0 ? responseCode : status, headers: headers, body: body, metrics: metrics()))
        }
        return .failure(error(for: code))
    }

    private func metrics() -> HTTPMetrics {
        guard let easy else { return HTTPMetrics() }
        func time(_ info: CURLINFO) -> Duration {
            var microseconds: curl_off_t = 0
            _ = pipe_curl_easy_getinfo_off_t(easy, info, &microseconds)
            return .microseconds(microseconds)
        }
        var newConnections = 0
        _ = pipe_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &newConnections)
        // The TLS handshake ends after the TCP connect; without TLS its time is zero.
        let connect = max(time(CURLINFO_CONNECT_TIME_T), time(CURLINFO_APPCONNECT_TIME_T))
        return HTTPMetrics(
            total: time(CURLINFO_TOTAL_TIME_T),
            firstByte: time(CURLINFO_STARTTRANSFER_TIME_T),
            connect: newConnections == 0 ? .zero : connect,
            reusedConnection: newConnections == 0)
    }

    private func error(for code: CURLcode) -> HTTPError {
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: pipe_curl_easy_strerror(code))
        let message = HTTPRedaction.scrub(detail, for: request)
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidRequest(message)
        case CURLE_OUT_OF_MEMORY, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN, CURLE_FAILED_INIT:
            return .client(message)
        default:
            return headDelivered || status != 0 ? .interrupted(message) : .connection(message)
        }
    }

    /// Resumes the waiting task once; later calls do nothing.
    func complete(_ outcome: Outcome) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(returning: outcome)
    }
}
