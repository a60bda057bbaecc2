/// The tool servers of one run, reached over the Model Context Protocol: each declared server
/// is started (spawned over stdio, or connected over Streamable HTTP) when a stage first uses
/// it, shared by every stage that names it, and stopped by `shutdown()`.
public final class MCPToolServers: ToolServers {
    private let connections: [String: MCPServerConnection]

    /// `configs` by server name, the name a stage writes before the dot (`git.git_log`).
    public init(_ configs: [String: ToolServerConfig]) {
        connections = Dictionary(
            uniqueKeysWithValues: configs.map { name, config in
                var config = config
                config.name = name
                return (name, MCPServerConnection(config))
            })
    }

    public func tools(of server: String) async throws(ToolFailure) -> [ToolInfo] {
        try await connection(server).listTools()
    }

    public func call(server: String, tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome {
        try await connection(server).call(tool, arguments: arguments, timeout: timeout)
    }

    /// Stops every server started, together; no process is left, whether the servers
    /// answered, crashed or hang.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for connection in connections.values {
                group.addTask { await connection.close() }
            }
        }
    }

    private func connection(_ server: String) throws(ToolFailure) -> MCPServerConnection {
        guard let connection = connections[server] else { throw .unknownServer(server) }
        return connection
    }
}
