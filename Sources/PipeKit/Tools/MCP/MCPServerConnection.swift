/// One declared server's connection: started by its first use, once, and shared by every
/// caller (concurrent calls go out together, matched to their replies by id); its tool list
/// is asked for once. A connection that broke stays broken: later calls fail at once with
/// the same failure.
actor MCPServerConnection {
    /// How long starting, `initialize` and `tools/list` may take.
    static let startTimeout: Duration = .seconds(60)
    /// The most `tools/list` pages followed.
    static let maxToolPages = 1000

    let config: ToolServerConfig
    private var state = State.idle
    private var tools: [ToolInfo]?

    private enum State {
        case idle
        case starting(Task<Result<MCPSession, ToolFailure>, Never>)
        case ready(MCPSession)
        case failed(ToolFailure)
        case closed
    }

    init(_ config: ToolServerConfig) {
        self.config = config
    }

    func listTools() async throws(ToolFailure) -> [ToolInfo] {
        if let tools { return tools }
        let session = try await session()
        var all: [ToolInfo] = []
        var cursor: String?
        for _ in 0..<Self.maxToolPages {
            let result = try await session.request(
                "tools/list", cursor.map { ["cursor": .string($0)] }, timeout: Self.startTimeout, naming: "tools/list")
            all += try MCPToolResult.tools(in: result, server: config.name)
            guard let next = result["nextCursor"]?.stringValue else {
                tools = all
                return all
            }
            cursor = next
        }
        throw .protocolViolation(server: config.name, detail: "tools/list went on for more than \(Self.maxToolPages) pages")
    }

    func call(_ tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome {
        let session = try await session()
        let result = try await session.request("tools/call", ["name": .string(tool), "arguments": arguments], timeout: timeout, naming: tool)
        return MCPToolResult.outcome(of: result, limit: config.maxResultCharacters)
    }

    /// Stops the server if it was started (or is starting); later calls fail.
    func close() async {
        let previous = state
        state = .closed
        switch previous {
        case .ready(let session):
            await session.close()
        case .starting(let start):
            if case .success(let session) = await start.value { await session.close() }
        case .idle, .failed, .closed:
            break
        }
    }

    private func session() async throws(ToolFailure) -> MCPSession {
        switch state {
        case .ready(let session):
            return session
        case .failed(let failure):
            throw failure
        case .closed:
            throw .crashed(server: config.name, detail: "the tool servers were shut down")
        case .starting(let start):
            return try await start.value.get()
        case .idle:
            // Not the caller's task: a caller cancelled while the server starts leaves it
            // starting for the others.
            let config = self.config
            let start = Task { () async -> Result<MCPSession, ToolFailure> in
                do throws(ToolFailure) {
                    return .success(try await Self.open(config))
                } catch {
                    return .failure(error)
                }
            }
            state = .starting(start)
            let result = await start.value
            if case .starting = state {
                switch result {
                case .success(let session): state = .ready(session)
                case .failure(let failure): state = .failed(failure)
                }
            } else if case .closed = state {
                throw .crashed(server: config.name, detail: "the tool servers were shut down")
            }
            return try result.get()
        }
    }

    private static func open(_ config: ToolServerConfig) async throws(ToolFailure) -> MCPSession {
        switch config.transport {
        case .stdio(let command):
            try await MCPSession.open(server: config.name, timeout: startTimeout) { inbox throws(ToolFailure) in
                try await MCPStdioTransport.start(config, command: command, inbox: inbox)
            }
        case .http(let url, let headers):
            try await MCPSession.open(server: config.name, timeout: startTimeout) { inbox throws(ToolFailure) in
                try MCPHTTPTransport(server: config.name, url: url, headers: headers, inbox: inbox)
            }
        }
    }
}
