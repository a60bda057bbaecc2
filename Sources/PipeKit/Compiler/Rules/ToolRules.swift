// Rules `unknown-tool-server`, `tool-reference` and `unknown-tool`: a stage's `tools` name
// declared servers as `server.tool` or `server`, and its `mock:` scripts call only tools it offers.
struct ToolRules: Rule {
    let ids: [RuleID] = [.unknownToolServer, .toolReference, .unknownTool]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        let servers = resolved.spec.tools.map(\.name.value)
        for stage in resolved.stages {
            for written in stage.spec.tools ?? [] {
                guard let reference = ToolReference(parsing: written.value) else {
                    diagnostics.report(
                        .toolReference, at: written.span, "`\(written.value)` in the `tools` of stage `\(stage.name)` is not `server.tool` or `server`",
                        hint: "for example `git.git_log` (one tool) or `git` (all of the server's tools)")
                    continue
                }
                if !servers.contains(reference.server) {
                    let hint = servers.isEmpty
                        ? "declare it under `tools:` at the top of the spec: `\(reference.server): { mcp: { command: [...] } }`"
                        : Suggestions.hint(for: reference.server, in: servers, kind: "declared tool servers")
                    diagnostics.report(
                        .unknownToolServer, at: written.span,
                        "stage `\(stage.name)` names the tool server `\(reference.server)`, which `tools:` does not declare", hint: hint)
                }
            }
            let offered = stage.toolReferences
            for (value, node) in stage.spec.mock {
                guard let call = MockToolCall(value) else { continue }
                let covered = offered.contains { $0.server == call.tool.server && ($0.tool == nil || $0.tool == call.tool.tool) }
                if !covered {
                    diagnostics.report(
                        .unknownTool, at: node["tool"]?.span ?? node.span,
                        "this `mock:` entry of stage `\(stage.name)` calls `\(call.tool)`, which the stage's `tools` do not offer",
                        hint: offered.isEmpty ? "add `tools: [\(call.tool)]` to the stage"
                            : Suggestions.hint(for: call.tool.description, in: offered.map(\.description), kind: "tools offered"))
                }
            }
        }
    }
}

/// A `mock:` entry that scripts a tool call (`{ tool: git.git_log, arguments: {...} }`)
/// rather than giving a value: the mock provider asks for the call, and the run makes it.
public struct MockToolCall: Sendable, Hashable {
    public var tool: ToolReference
    public var arguments: JSONValue

    /// Nil when `value` is not a mapping of `tool` (a `server.tool`) and optional `arguments`.
    public init?(_ value: JSONValue) {
        guard case .object(let object) = value, case .string(let name)? = object["tool"],
            object.keys.allSatisfy({ $0 == "tool" || $0 == "arguments" }),
            let tool = ToolReference(parsing: name), tool.tool != nil
        else { return nil }
        self.tool = tool
        self.arguments = object["arguments"] ?? .object(JSONObject())
    }
}
