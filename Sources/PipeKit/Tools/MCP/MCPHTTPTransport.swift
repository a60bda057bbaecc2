/// A Streamable HTTP MCP server: each message is POSTed to the server's URL through the
/// process's `HTTPClient`, and the reply comes back as a JSON body or as a stream of
/// server-sent events. The server's `Mcp-Session-Id` is kept and sent back, with
/// `MCP-Protocol-Version` once `initialize` agreed on one; `close` ends the session (DELETE).
/// The configured headers (a token) are sent and never appear in a message.
final class MCPHTTPTransport: MCPTransport {
    /// The largest reply body or event read.
    static let maxReplyBytes = 64 << 20

    private let server: String
    private let url: String
    private let headers: [String: String]
    private let inbox: MCPInbox
    private let client: HTTPClient
    private let session = Locked(Session())

    private struct Session {
        var id: String?
        var protocolVersion: String?
    }

    init(server: String, url: String, headers: [String: String], client: HTTPClient = .shared, inbox: MCPInbox) throws(ToolFailure) {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw .couldNotStart(server: server, reason: "its url is not an http:// or https:// URL")
        }
        self.server = server
        self.url = url
        self.headers = headers
        self.client = client
        self.inbox = inbox
    }

    func negotiated(version: String) async {
        session.withLock { $0.protocolVersion = version }
    }

    func send(_ message: JSONValue) async throws(ToolFailure) {
        let starting = message["method"]?.stringValue == "initialize"
        var request = HTTPRequest(
            url: url, headers: requestHeaders(), body: message.serialized(),
            connectTimeout: .seconds(30), maxResponseBytes: Self.maxReplyBytes)
        request.headers.set(name: "Content-Type", value: "application/json")
        request.headers.set(name: "Accept", value: "application/json, text/event-stream")
        let events = Locked<[SSEEvent]>([])
        let response: HTTPResponse
        do {
            response = try await client.streamEvents(request, maxEventBytes: Self.maxReplyBytes) { event in
                events.withLock { $0.append(event) }
            }
        } catch .cancelled {
            throw MCPSession.cancelled(server)
        } catch {
            throw starting ? .couldNotStart(server: server, reason: "\(error)") : .crashed(server: server, detail: "\(error)")
        }
        if let id = response.headers["mcp-session-id"] { session.withLock { $0.id = id } }
        guard response.isSuccess else {
            let detail = "HTTP status \(response.status): \(MCPText.excerpt(response.text))"
            throw starting ? .couldNotStart(server: server, reason: detail) : .crashed(server: server, detail: detail)
        }
        var bodies = events.withLock { $0 }.filter { $0.event == "message" && !$0.data.isEmpty }.map { Array($0.data.utf8) }
        if !response.body.isEmpty { bodies.append(response.body) }
        for body in bodies {
            guard let value = try? JSONParser.parse(body) else {
                let text = String(decoding: body.prefix(400), as: UTF8.self)
                throw .protocolViolation(server: server, detail: "it answered something that is not JSON-RPC: \(MCPText.excerpt(text))")
            }
            for message in value.arrayValue ?? [value] { await inbox.receive(message) }
        }
    }

    func close() async {
        guard session.withLock({ $0.id }) != nil else { return }
        _ = try? await client.send(HTTPRequest(url: url, method: "DELETE", headers: requestHeaders(), timeout: .seconds(5)))
    }

    private func requestHeaders() -> HTTPHeaders {
        var fields = HTTPHeaders(headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        let (id, version) = session.withLock { ($0.id, $0.protocolVersion) }
        if let id { fields.set(name: "Mcp-Session-Id", value: id) }
        if let version { fields.set(name: "MCP-Protocol-Version", value: version) }
        return fields
    }
}
