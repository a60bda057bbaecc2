import ArgumentParser
import PipeKit

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the compiled DAG of a spec as Mermaid or Graphviz DOT.",
        discussion: """
            Nodes are the input, each stage (with its model) and the output; an edge means \
            the stage reads that value. The spec must compile: on errors, the diagnostics \
            are printed on stderr and the exit status is 2.

            Examples:
              pipe graph pipelines/research-report.yaml                 # paste into a Markdown file
              pipe graph --format dot spec.yaml | dot -Tsvg > dag.svg
            """
    )

    @Option(name: .long, help: "mermaid (the default) or dot.")
    var format: GraphFormat = .mermaid

    @Argument(help: "The spec file; `-` reads it from standard input.")
    var spec: String

    func run() throws {
        let pipeline = try SpecFile.compileOrExit(spec)
        try Terminal.write(GraphRenderer(pipeline: pipeline).render(format))
    }
}

extension GraphFormat: ExpressibleByArgument {}
