/// The port between agent stages and the tool servers a spec declares (`tools:`). Stages
/// reach tools only through `ToolServers`; the MCP client (`Tools/MCP/`) is its
/// implementation, and tests may give another.

/// How to reach one declared tool server, resolved from the spec (`tools: NAME: { mcp: ... }`).
public struct ToolServerConfig: Sendable, Hashable {
    public enum Transport: Sendable, Hashable {
        /// A server spawned as a child process speaking MCP over stdin/stdout: argv, no shell.
        case stdio(command: [String])
        /// A Streamable HTTP MCP server.
        case http(url: String, headers: [String: String])
    }

    /// The server's name in the spec (`git` in `git.git_log`).
    public var name: String
    public var transport: Transport
    /// The only environment a spawned server sees: the variables the spec passes by name,
    /// already expanded (`env: { GIT_DIR: "${GIT_DIR}" }`); never the API keys implicitly.
    public var environment: [String: String]
    /// The working directory of a spawned server: the spec's directory.
    public var workingDirectory: String
    /// A tool result longer than this is cut, with a note to the model saying so.
    public var maxResultCharacters: Int

    public init(
        name: String, transport: Transport, environment: [String: String] = [:], workingDirectory: String,
        maxResultCharacters: Int = ToolServerConfig.defaultMaxResultCharacters
    ) {
        self.name = name
        self.transport = transport
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.maxResultCharacters = maxResultCharacters
    }

    public static let defaultMaxResultCharacters = 20_000
}

/// A tool as its server lists it (`tools/list`).
public struct ToolInfo: Sendable, Hashable {
    public var name: String
    public var description: String
    /// A JSON Schema whose root is an object.
    public var inputSchema: JSONValue

    public init(name: String, description: String, inputSchema: JSONValue) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// What a tool call gave back. A tool that reports an error (`isError`) is a result too: it
/// goes back to the model so the model can recover.
public struct ToolOutcome: Sendable, Hashable {
    /// The result's text content, joined, cut at the server's `maxResultCharacters`.
    public var content: String
    public var isError: Bool
    /// The result's length before any cut, in characters.
    public var fullLength: Int

    public init(content: String, isError: Bool, fullLength: Int? = nil) {
        self.content = content
        self.isError = isError
        self.fullLength = fullLength ?? content.count
    }
}

/// Why a server could not answer: the call fails (for the model, an error result naming this).
public enum ToolFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The spec names no such server.
    case unknownServer(String)
    /// Spawning or connecting failed.
    case couldNotStart(server: String, reason: String)
    /// The process exited or the connection closed.
    case crashed(server: String, detail: String)
    /// The server wrote something that is not MCP (garbage on stdout, a malformed reply).
    case protocolViolation(server: String, detail: String)
    /// No reply within the call's timeout; the request was cancelled.
    case timedOut(server: String, tool: String, after: Duration)
    /// A JSON-RPC error reply (an unknown tool, invalid arguments).
    case serverError(server: String, code: Int, message: String)

    public var description: String {
        switch self {
        case .unknownServer(let server): "no tool server named '\(server)'"
        case .couldNotStart(let server, let reason): "tool server '\(server)' could not start: \(reason)"
        case .crashed(let server, let detail): "tool server '\(server)' stopped: \(detail)"
        case .protocolViolation(let server, let detail): "tool server '\(server)' broke the protocol: \(detail)"
        case .timedOut(let server, let tool, let after): "tool '\(server).\(tool)' did not answer within \(after)"
        case .serverError(let server, let code, let message): "tool server '\(server)' answered error \(code): \(message)"
        }
    }
}

/// The tool servers of one run: each started when first used, shared by the stages that name
/// it, and all stopped by `shutdown()` when the run ends (also on failure and Ctrl-C).
public protocol ToolServers: Sendable {
    /// The tools a server offers.
    func tools(of server: String) async throws(ToolFailure) -> [ToolInfo]
    /// Calls one tool. A tool's own error is an outcome with `isError`; a failure of the
    /// server (or a timeout, after which the request is cancelled) throws.
    func call(server: String, tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome
    /// Stops every server started, with no process left behind.
    func shutdown() async
}
