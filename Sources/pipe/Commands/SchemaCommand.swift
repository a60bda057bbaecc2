import ArgumentParser
import PipeKit

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the spec format.",
        discussion: """
            The same document as schemas/pipeline.schema.json. Point your editor at it for \
            completion and checking of spec files, with this first line in a spec:

              # yaml-language-server: $schema=path/to/pipeline.schema.json

            Example:
              pipe schema > pipeline.schema.json
            """
    )

    func run() throws {
        try Terminal.write(PipelineFormatSchema.text)
    }
}
