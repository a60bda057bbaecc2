import ArgumentParser
import PipeKit

@main
struct Pipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Run declarative LLM pipelines, checked like code.",
        version: PipeVersion.current,
        subcommands: [CheckJSONCommand.self]
    )
}
