import ArgumentParser
import Foundation
import PipeKit

@main
struct Pipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Run declarative LLM pipelines, checked like code.",
        discussion: """
            A YAML spec declares stages, the model each uses, token budgets and the JSON Schema \
            each stage's output must match. `pipe lint` checks it before a token is spent; \
            `pipe run` compiles it into a DAG and runs it with schema-checked handoffs.

            Run `pipe help COMMAND` for a command's options and examples.
            """,
        version: PipeVersion.current,
        subcommands: [
            RunCommand.self, ApproveCommand.self, RejectCommand.self, LogsCommand.self, LintCommand.self, GraphCommand.self, CheckJSONCommand.self, SchemaCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCodeError {
            exit(withError: ExitCode(error.code))
        } catch let error as ExitCode {
            exit(withError: error)
        } catch {
            // Help and --version exit 0; every other parse or validation error is a usage
            // error, which is exit 2 for every pipe command (README, "Exit codes").
            guard exitCode(for: error) != .success else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(2))
        }
    }
}
