/// One HTTP request, as the client sends it.
public struct HTTPRequest: Sendable {
    /// An absolute `http://` or `https://` URL.
    public var url: String
    /// `GET`, `POST`, ...; any token is accepted.
    public var method: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The longest the whole attempt may take, connecting included; nil for no limit.
    public var timeout: Duration?
    /// The longest connecting may take; nil for libcurl's default (300 s).
    public var connectTimeout: Duration?
    /// The most bytes the response's body may have: a longer one ends the transfer with
    /// `HTTPError.responseTooLarge`, whatever the status. nil for no limit.
    public var maxResponseBytes: Int?

    public init(
        url: String,
        method: String = "POST",
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        timeout: Duration? = nil,
        connectTimeout: Duration? = nil,
        maxResponseBytes: Int? = nil
    ) {
        self.maxResponseBytes = maxResponseBytes
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// A request whose body is `body` as UTF-8 (typically JSON).
    public init(
        url: String,
        method: String = "POST",
        headers: HTTPHeaders = [:],
        body: String,
        timeout: Duration? = nil,
        connectTimeout: Duration? = nil,
        maxResponseBytes: Int? = nil
    ) {
        self.init(
            url: url, method: method, headers: headers, body: Array(body.utf8),
            timeout: timeout, connectTimeout: connectTimeout, maxResponseBytes: maxResponseBytes)
    }
}

extension HTTPRequest: CustomStringConvertible {
    /// Method, URL without its query and header names: never a header value or the body.
    public var description: String {
        "\(method) \(HTTPRedaction.urlWithoutQuery(url)) headers: \(headers) body: \(body.count) bytes"
    }
}
