import ArgumentParser
import PipeKit

struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools",
        abstract: "Start a spec's tool servers and list their tools.",
        discussion: """
            Starts each server declared under the spec's `tools:` (as `pipe run` would: in the \
            spec's directory, with only the variables its `env` passes), asks it for its tools \
            (`tools/list`), prints them, and stops it. Each tool is shown as \
            `server.tool(arguments)` with the first line of its description; an argument with \
            `*` is required. `--format json` prints every tool's whole input schema.

            Then checks the spec against what the servers list, as `pipe lint --tools` does: a \
            `server.tool` a stage names that its server does not have (`unknown-tool`, with \
            did-you-mean) and a server that does not start or list its tools (`tool-server`) \
            are diagnostics on stderr, at their line and column.

            Exit status: 0 when every named tool exists, 1 when diagnostics were reported, 2 \
            when the spec does not compile, a `${VAR}` of a server's `env` is not set, or this \
            pipe cannot start tool servers; 74 when stdout or stderr cannot be written.

            Examples:
              pipe tools pipelines/code-review.yaml
              pipe tools --format json spec.yaml | jq '.[].tools[].name'
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: "text (the default) or json.")
    var format: Format = .text

    @Argument(help: "The spec file; `-` reads it from standard input.")
    var spec: String

    func run() async throws {
        let pipeline = try SpecFile.compileOrExit(spec)
        guard !pipeline.toolServers.isEmpty else {
            try Terminal.writeError("pipe: \(pipeline.source.path) declares no tool servers (`tools:`)\n")
            return
        }
        let listings = try await ToolServersSetup.listingsOrExit(pipeline)
        switch format {
        case .text: try Terminal.write(ToolCatalog.text(listings))
        case .json: try Terminal.write(ToolCatalog.json(listings).serialized(pretty: true) + "\n")
        }
        let diagnostics = ToolCatalog.diagnostics(pipeline, listings: listings)
        guard !diagnostics.isEmpty else { return }
        try TextFormat(color: Terminal.isColorEnabled(fileDescriptor: 2)).write(
            [LintedFile(source: pipeline.source, diagnostics: diagnostics)], to: Terminal.writeError)
        throw ExitCodeError(code: 1)
    }
}
