/// How one MCP connection moves JSON-RPC messages: stdio (`MCPStdioTransport`) or Streamable
/// HTTP (`MCPHTTPTransport`). A transport only carries messages; `MCPSession` gives them meaning.
protocol MCPTransport: Sendable {
    /// Sends one message. Messages the server sends back (replies, its own requests and
    /// notifications) go to the inbox the transport was made with, in the order they arrive;
    /// over HTTP that happens before `send` returns, over stdio whenever the server writes.
    func send(_ message: JSONValue) async throws(ToolFailure)
    /// Told the protocol revision agreed in `initialize` (HTTP sends it in a header).
    func negotiated(version: String) async
    /// Ends the connection: no process and no server session is left behind.
    func close() async
}

/// Where a transport delivers what the server sends.
struct MCPInbox: Sendable {
    /// One message, parsed as JSON.
    var receive: @Sendable (JSONValue) async -> Void
    /// The connection is gone (the process exited, stdout carried something that is not a
    /// message): every call in flight and every later call fails with this.
    var fail: @Sendable (ToolFailure) -> Void
}
