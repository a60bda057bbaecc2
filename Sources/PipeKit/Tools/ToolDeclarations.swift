/// The compiled side of `tools:`: what a stage names (`ToolReference`) and how each declared
/// server is reached once pipe's environment is known (`ToolServerDeclaration.config`).

/// A stage's `tools:` entry: one tool of a server (`git.git_log`) or all of them (`git`).
public struct ToolReference: Sendable, Hashable, CustomStringConvertible {
    public var server: String
    /// Nil: every tool the server lists.
    public var tool: String?
    /// Where the stage names it (for `pipe tools`' diagnostics).
    public var span: Span?

    public init(server: String, tool: String? = nil, span: Span? = nil) {
        self.server = server
        self.tool = tool
        self.span = span
    }

    /// `server.tool` or `server`, split at the first dot; nil when a part is empty.
    public init?(parsing text: String) {
        guard let dot = text.firstIndex(of: ".") else {
            guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { return nil }
            self.init(server: text)
            return
        }
        let server = String(text[..<dot]), tool = String(text[text.index(after: dot)...])
        guard !server.isEmpty, !tool.isEmpty, !(server + tool).contains(where: \.isWhitespace) else { return nil }
        self.init(server: server, tool: tool)
    }

    public var description: String { tool.map { "\(server).\($0)" } ?? server }
}

/// A server of `tools:` as the spec declares it, before `${VAR}`s are expanded.
public struct ToolServerDeclaration: Sendable, Hashable {
    public var name: String
    /// Header values and `env` values may hold `${VAR}`s.
    public var transport: ToolServerConfig.Transport
    public var environment: [String: String]
    public var maxResultCharacters: Int
    /// Where the spec declares it.
    public var span: Span? = nil

    /// The server's config, with every `${VAR}` read from `environment` (pipe's own); the
    /// working directory is the spec's. Nothing else of pipe's environment is passed.
    public func config(environment variables: [String: String], workingDirectory: String) throws(ToolSetupError) -> ToolServerConfig {
        var expanded: [String: String] = [:]
        for (key, value) in environment { expanded[key] = try expand(value, from: variables) }
        var transport = transport
        if case .http(let url, let headers) = transport {
            var values: [String: String] = [:]
            for (key, value) in headers { values[key] = try expand(value, from: variables) }
            transport = .http(url: url, headers: values)
        }
        return ToolServerConfig(
            name: name, transport: transport, environment: expanded, workingDirectory: workingDirectory,
            maxResultCharacters: maxResultCharacters)
    }

    /// `text` with each `${NAME}` replaced by the variable's value.
    private func expand(_ text: String, from variables: [String: String]) throws(ToolSetupError) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let variable = String(rest[open.upperBound..<close])
            guard let value = variables[variable] else { throw .unsetVariable(server: name, variable: variable) }
            result += rest[..<open.lowerBound] + value
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

/// Why the tool servers of a run cannot be set up before it starts.
public enum ToolSetupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `env:` or a header names `${VARIABLE}`, which pipe's environment does not set.
    case unsetVariable(server: String, variable: String)
    /// This `pipe` has no way to start tool servers (no implementation of `ToolServers`).
    case unavailable

    public var description: String {
        switch self {
        case .unsetVariable(let server, let variable):
            "tool server `\(server)` needs the environment variable \(variable) (`${\(variable)}` in its spec), which is not set"
        case .unavailable: "this build of pipe cannot start tool servers (no MCP client)"
        }
    }
}

extension CompiledPipeline {
    /// The configs of the servers the stages use (every declared one with `all`), `${VAR}`s
    /// expanded from `environment`.
    public func toolServerConfigs(environment: [String: String], all: Bool = false) throws(ToolSetupError) -> [String: ToolServerConfig] {
        let used = Set(stages.flatMap { $0.kind.tools.map(\.server) })
        var configs: [String: ToolServerConfig] = [:]
        for server in toolServers where all || used.contains(server.name) {
            configs[server.name] = try server.config(environment: environment, workingDirectory: directory)
        }
        return configs
    }

    /// The pipeline as `--mock` runs it: a stage whose `mock:` scripts no tool call answers
    /// without tools, so no server starts for it.
    public func mocked() -> CompiledPipeline {
        var copy = self
        copy.stages = stages.map { stage in
            guard case .model(var model) = stage.kind, !model.mockReplies.contains(where: { MockToolCall($0) != nil }) else { return stage }
            model.tools = []
            var stage = stage
            stage.kind = .model(model)
            return stage
        }
        return copy
    }

    /// Whether any stage offers its model tools.
    public var usesTools: Bool { stages.contains { !$0.kind.tools.isEmpty } }
}
