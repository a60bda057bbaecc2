/// `pipe tools` and `pipe lint --tools`: each declared server started and asked for its
/// tools, and what the stages name checked against what the servers list, before a token
/// is spent.
public enum ToolCatalog {
    /// One server's answer: its tools, or why it could not give them.
    public struct Listing: Sendable {
        public var server: String
        public var tools: Result<[ToolInfo], ToolFailure>
    }

    /// Asks every server of `configs` for its tools, all at once; in the spec's order.
    public static func list(_ pipeline: CompiledPipeline, servers: any ToolServers) async -> [Listing] {
        await withTaskGroup(of: (Int, Listing).self) { group in
            for (index, server) in pipeline.toolServers.enumerated() {
                group.addTask {
                    do throws(ToolFailure) {
                        return (index, Listing(server: server.name, tools: .success(try await servers.tools(of: server.name))))
                    } catch {
                        return (index, Listing(server: server.name, tools: .failure(error)))
                    }
                }
            }
            var listings: [(Int, Listing)] = []
            for await listing in group { listings.append(listing) }
            return listings.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `tool-server` where a server that could not list its tools is declared; `unknown-tool`
    /// where a stage names a tool its server does not list, with did-you-mean.
    public static func diagnostics(_ pipeline: CompiledPipeline, listings: [Listing]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let fileStart = Span.fileStart(pipeline.source.path)
        for listing in listings {
            guard case .failure(let failure) = listing.tools else { continue }
            let span = pipeline.toolServers.first { $0.name == listing.server }?.span ?? fileStart
            diagnostics.append(
                Diagnostic(.toolServer, at: span, "\(failure)", hint: "check its `mcp` command or URL, and the `env` it needs"))
        }
        for stage in pipeline.stages {
            for reference in stage.kind.tools {
                guard let name = reference.tool,
                    case .success(let tools)? = listings.first(where: { $0.server == reference.server })?.tools,
                    !tools.contains(where: { $0.name == name })
                else { continue }
                let names = tools.map(\.name)
                diagnostics.append(
                    Diagnostic(
                        .unknownTool, at: reference.span ?? stage.span,
                        "stage `\(stage.name)` names `\(reference)`, but tool server `\(reference.server)` has no tool `\(name)`",
                        hint: Suggestions.hint(for: name, in: names, kind: "its tools")
                            ?? (names.isEmpty ? "it lists no tools" : "its tools: " + names.joined(separator: ", "))))
            }
        }
        return diagnostics.sorted { ($0.span.start.line, $0.span.start.column) < ($1.span.start.line, $1.span.start.column) }
    }

    /// The listings as `pipe tools` prints them: each server, then each tool with its
    /// description's first line and its arguments (`name*` when required).
    public static func text(_ listings: [Listing]) -> String {
        var out = ""
        for listing in listings {
            switch listing.tools {
            case .failure(let failure):
                out += "\(listing.server): could not list its tools: \(failure)\n"
            case .success(let tools):
                out += "\(listing.server): \(tools.count) tool\(tools.count == 1 ? "" : "s")\n"
                for tool in tools {
                    let summary = tool.description.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                    out += "  \(listing.server).\(tool.name)(\(arguments(of: tool.inputSchema).joined(separator: ", ")))"
                        + (summary.isEmpty ? "" : "  \(summary)") + "\n"
                }
            }
        }
        return out
    }

    /// `pipe tools --format json`: `[{"server", "tools": [{"name", "description", "input_schema"}] | "error"}]`.
    public static func json(_ listings: [Listing]) -> JSONValue {
        .array(
            listings.map { listing in
                switch listing.tools {
                case .failure(let failure):
                    return ["server": .string(listing.server), "error": .string(failure.description)]
                case .success(let tools):
                    return [
                        "server": .string(listing.server),
                        "tools": .array(tools.map { ["name": .string($0.name), "description": .string($0.description), "input_schema": $0.inputSchema] }),
                    ]
                }
            })
    }

    /// `repo_path*: string`: the input schema's properties, required ones starred.
    static func arguments(of schema: JSONValue) -> [String] {
        guard let properties = schema["properties"]?.objectValue else { return [] }
        let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        return properties.keys.map { name in
            let type = properties[name]?["type"]?.stringValue
            return name + (required.contains(name) ? "*" : "") + (type.map { ": \($0)" } ?? "")
        }
    }
}
