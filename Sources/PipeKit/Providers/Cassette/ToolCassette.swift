/// A tool server's tool list as recorded (`tools/list`), so that a replay offers the model
/// the same tools without starting the server.
public struct CassetteToolList: Sendable {
    public var server: String
    public var tools: [ToolInfo]

    var json: JSONValue {
        [
            "tools_of": .string(server),
            "tools": .array(tools.map { ["name": .string($0.name), "description": .string($0.description), "input_schema": $0.inputSchema] }),
        ]
    }

    init(server: String, tools: [ToolInfo]) {
        self.server = server
        self.tools = tools
    }

    init?(_ value: JSONValue) {
        guard let server = value["tools_of"]?.stringValue, let written = value["tools"]?.arrayValue else { return nil }
        var tools: [ToolInfo] = []
        for tool in written {
            guard let name = tool["name"]?.stringValue, let schema = tool["input_schema"] else { return nil }
            tools.append(ToolInfo(name: name, description: tool["description"]?.stringValue ?? "", inputSchema: schema))
        }
        self.init(server: server, tools: tools)
    }
}

/// One tool call as recorded: the server, the tool, the arguments, and the result (or the
/// server's failure).
public struct CassetteToolCall: Sendable {
    public struct Key: Sendable, Hashable {
        public var server: String
        public var tool: String
        public var arguments: JSONValue
    }

    public var key: Key
    public var outcome: Result<ToolOutcome, ToolFailure>

    var json: JSONValue {
        var line: JSONObject = [
            "tool_call": ["server": .string(key.server), "tool": .string(key.tool), "arguments": key.arguments]
        ]
        switch outcome {
        case .success(let outcome):
            line["outcome"] = [
                "content": .string(outcome.content), "is_error": .bool(outcome.isError), "full_length": .number(JSONNumber(outcome.fullLength)),
            ]
        case .failure(let failure):
            line["failure"] = CassetteCodec.failure(failure)
        }
        return .object(line)
    }

    /// The call as a cassette recorded under `policy` keeps it: the arguments, which the model
    /// wrote, hashed with the outputs; the result, which goes back to the model, with the prompts.
    func recorded(under policy: RecordPolicy) -> CassetteToolCall {
        var call = self
        if policy.hashesOutputs { call.key.arguments = .string(HashedText(key.arguments).description) }
        if policy.hashesPrompts, case .success(var result) = outcome {
            result.content = HashedText(result.content).description
            call.outcome = .success(result)
        }
        return call
    }

    init(key: Key, outcome: Result<ToolOutcome, ToolFailure>) {
        self.key = key
        self.outcome = outcome
    }

    init?(_ value: JSONValue) {
        guard let call = value["tool_call"], let server = call["server"]?.stringValue, let tool = call["tool"]?.stringValue,
            let arguments = call["arguments"]
        else { return nil }
        key = Key(server: server, tool: tool, arguments: arguments)
        if let failure = value["failure"] {
            guard let failure = CassetteCodec.failure(failure) else { return nil }
            outcome = .failure(failure)
        } else {
            guard let content = value["outcome"]?["content"]?.stringValue else { return nil }
            outcome = .success(
                ToolOutcome(
                    content: content, isError: value["outcome"]?["is_error"]?.boolValue ?? false,
                    fullLength: value["outcome"]?["full_length"]?.numberValue?.intValue))
        }
    }
}

/// The tool servers of a recorded run (`pipe run --record` of a stage with `tools:`): the
/// servers it wraps answer, and each tool list and call is written to the cassette.
public final class RecordingToolServers: ToolServers {
    let inner: any ToolServers
    let output: CassetteRecorder
    /// The run's `record:`: arguments and results written as their hashes when it says so.
    let policy: RecordPolicy

    public init(_ inner: any ToolServers, recorder: CassetteRecorder, policy: RecordPolicy) {
        self.inner = inner
        self.output = recorder
        self.policy = policy
    }

    public func tools(of server: String) async throws(ToolFailure) -> [ToolInfo] {
        let tools = try await inner.tools(of: server)
        output.record(CassetteToolList(server: server, tools: tools).json)
        return tools
    }

    public func call(server: String, tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome {
        let key = CassetteToolCall.Key(server: server, tool: tool, arguments: arguments)
        do throws(ToolFailure) {
            let outcome = try await inner.call(server: server, tool: tool, arguments: arguments, timeout: timeout)
            output.record(CassetteToolCall(key: key, outcome: .success(outcome)).recorded(under: policy).json)
            return outcome
        } catch {
            output.record(CassetteToolCall(key: key, outcome: .failure(error)).recorded(under: policy).json)
            throw error
        }
    }

    public func shutdown() async { await inner.shutdown() }
}

/// The tool servers of a replayed run: tool lists and results come from the cassette, and no
/// server is started. Identical calls get their recorded results in turn (the last repeats).
/// A call that is not in the cassette fails (the model reads the error, and the next request
/// then differs from the recorded one: the replay stops there, showing the difference).
public final class ReplayToolServers: ToolServers {
    let path: String
    let lists: [String: [ToolInfo]]
    let calls: [CassetteToolCall.Key: [Result<ToolOutcome, ToolFailure>]]
    private let used = Locked<[CassetteToolCall.Key: Int]>([:])

    init(path: String, contents: Cassette.Contents) {
        self.path = path
        var lists: [String: [ToolInfo]] = [:]
        for list in contents.toolLists { lists[list.server] = list.tools }
        self.lists = lists
        var calls: [CassetteToolCall.Key: [Result<ToolOutcome, ToolFailure>]] = [:]
        for call in contents.toolCalls { calls[call.key, default: []].append(call.outcome) }
        self.calls = calls
    }

    public func tools(of server: String) async throws(ToolFailure) -> [ToolInfo] {
        guard let tools = lists[server] else {
            throw .couldNotStart(
                server: server, reason: "replayed from \(path), which has no tool list of it; record it again with --record")
        }
        return tools
    }

    public func call(server: String, tool: String, arguments: JSONValue, timeout: Duration) async throws(ToolFailure) -> ToolOutcome {
        let key = CassetteToolCall.Key(server: server, tool: tool, arguments: arguments)
        guard let recorded = calls[key], !recorded.isEmpty else {
            throw .serverError(
                server: server, code: 0,
                message: "the call of `\(tool)` with \(arguments.serialized()) is not in the replay cassette \(path); record it again with --record")
        }
        let index = used.withLock { used in
            defer { used[key, default: 0] += 1 }
            return min(used[key, default: 0], recorded.count - 1)
        }
        return try recorded[index].get()
    }

    public func shutdown() async {}
}
