import Foundation

/// The tools of one unit of a stage with `tools:`: the definitions offered to the model
/// under API-safe names, and the running of the calls of a turn, in parallel, through the
/// run's `ToolServers`.
struct ToolTurns: Sendable {
    /// A tool as offered: the name the model sees, and the server and tool it stands for.
    struct Offered: Sendable {
        var definition: ToolDefinition
        var server: String
        var tool: String
    }

    let offered: [Offered]
    let servers: any ToolServers
    /// Each call's timeout.
    let timeout: Duration

    var definitions: [ToolDefinition] { offered.map(\.definition) }

    /// Lists the servers' tools and keeps those `references` name; a tool a server does not
    /// list fails the stage (`pipe tools` reports it before a run).
    static func offer(
        _ references: [ToolReference], from servers: any ToolServers, avoiding outputTool: String, timeout: Duration
    ) async throws(StageFailure) -> ToolTurns {
        var listed: [String: [ToolInfo]] = [:]
        var offered: [Offered] = []
        var taken: Set<String> = [outputTool]
        for reference in references {
            if listed[reference.server] == nil {
                do throws(ToolFailure) {
                    listed[reference.server] = try await servers.tools(of: reference.server)
                } catch {
                    throw .tool(error)
                }
            }
            let tools = listed[reference.server] ?? []
            let chosen: [ToolInfo]
            if let name = reference.tool {
                guard let tool = tools.first(where: { $0.name == name }) else {
                    throw .unknownTool(reference, listed: tools.map(\.name))
                }
                chosen = [tool]
            } else {
                chosen = tools
            }
            for tool in chosen where !offered.contains(where: { $0.server == reference.server && $0.tool == tool.name }) {
                let name = ToolNames.apiName(server: reference.server, tool: tool.name, avoiding: taken)
                taken.insert(name)
                offered.append(
                    Offered(
                        definition: ToolDefinition(name: name, description: tool.description, inputSchema: tool.inputSchema),
                        server: reference.server, tool: tool.name))
            }
        }
        return ToolTurns(offered: offered, servers: servers, timeout: timeout)
    }

    /// One finished call, for the results message and the records.
    struct Call: Sendable {
        var id: String
        /// `server.tool`, or the name the model wrote for a tool not offered.
        var tool: String
        var arguments: JSONValue
        var outcome: ToolOutcome
        /// The server's failure, when it could not answer.
        var failure: String?
        var duration: Duration
        /// When it started, on the wall clock (for the store and the report's timeline).
        var startedAt: Date
    }

    /// Runs the calls of one turn at once; the results come back in the calls' order. A call
    /// of a tool not offered, with arguments that are not an object, or that its server
    /// fails, gets an error result the model can read.
    func run(_ calls: [(id: String, name: String, input: JSONValue)], started: @escaping @Sendable (Int) -> Void = { _ in })
        async -> [Call]
    {
        await withTaskGroup(of: (Int, Call).self) { group in
            for (index, call) in calls.enumerated() {
                group.addTask {
                    let (start, startedAt) = (ContinuousClock.now, Date())
                    guard let tool = offered.first(where: { $0.definition.name == call.name }) else {
                        let names = offered.map { "`\($0.definition.name)`" }.joined(separator: ", ")
                        let message = "there is no tool `\(call.name)`; the tools offered are \(names.isEmpty ? "none" : names)"
                        return (index, Call(id: call.id, tool: call.name, arguments: call.input,
                            outcome: ToolOutcome(content: message, isError: true), failure: message, duration: .zero, startedAt: startedAt))
                    }
                    let name = "\(tool.server).\(tool.tool)"
                    guard case .object = call.input else {
                        let message = "the arguments of `\(call.name)` must be a JSON object"
                        return (index, Call(id: call.id, tool: name, arguments: call.input,
                            outcome: ToolOutcome(content: message, isError: true), failure: message, duration: .zero, startedAt: startedAt))
                    }
                    started(index)
                    do throws(ToolFailure) {
                        let outcome = try await servers.call(server: tool.server, tool: tool.tool, arguments: call.input, timeout: timeout)
                        return (index, Call(id: call.id, tool: name, arguments: call.input, outcome: outcome, failure: nil,
                            duration: ContinuousClock.now - start, startedAt: startedAt))
                    } catch {
                        return (index, Call(id: call.id, tool: name, arguments: call.input,
                            outcome: ToolOutcome(content: error.description, isError: true), failure: error.description,
                            duration: ContinuousClock.now - start, startedAt: startedAt))
                    }
                }
            }
            var results: [Call?] = Array(repeating: nil, count: calls.count)
            for await (index, call) in group { results[index] = call }
            return results.compactMap { $0 }
        }
    }
}

/// The names tools have in an API request: `^[a-zA-Z0-9_-]{1,64}$`, unique in the request.
enum ToolNames {
    /// `git_git_log` for `git.git_log`: other characters become `_`; cut to 64; a name
    /// already `taken` (another tool's, or the output tool's) gets `_2`, `_3`...
    static func apiName(server: String, tool: String, avoiding taken: Set<String>) -> String {
        let base = ProviderNames.sanitized(server + "_" + tool)
        var name = String(base.prefix(64))
        var suffix = 2
        while taken.contains(name) {
            let tail = "_\(suffix)"
            name = String(base.prefix(64 - tail.count)) + tail
            suffix += 1
        }
        return name
    }
}
