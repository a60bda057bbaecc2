import ArgumentParser
import Foundation
import PipeKit
import Synchronization

@main
struct Pipe: AsyncParsableCommand {
    /// `configuration`, but while `parsedArguments` parses arguments that do not ask for a
    /// completion script.
    static var configuration: CommandConfiguration {
        parsingWithoutCompletions.load(ordering: .relaxed) ? configurationWithoutCompletions : fullConfiguration
    }

    private static let fullConfiguration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Run declarative LLM pipelines, checked like code.",
        discussion: """
            A YAML spec declares stages, the model each uses, token budgets and the JSON Schema \
            each stage's output must match. `pipe lint` checks it before a token is spent; \
            `pipe run` compiles it into a DAG and runs it with schema-checked handoffs.

            Every command exits 74 when its output cannot be written (a full disk), saying so \
            on stderr, and 141, silently, when the reader of its stdout has gone.

            Run `pipe help COMMAND` for a command's options and examples.
            """,
        version: PipeVersion.current,
        subcommands: [
            RunCommand.self, BatchCommand.self, EvalCommand.self, WorkerCommand.self, ApproveCommand.self, RejectCommand.self, LogsCommand.self, ReportCommand.self, LintCommand.self, TestCommand.self, ToolsCommand.self, GraphCommand.self, CheckJSONCommand.self, SchemaCommand.self,
        ]
    )

    static func main() async {
        // A closed pipe is then an error value (EPIPE) of the write, not a signal that kills.
        signal(SIGPIPE, SIG_IGN)
        // `pipe run` and `pipe batch` start compiling their spec (and `pipe run` opening its
        // store) now, on the other core, while ArgumentParser parses the arguments
        // (`EarlyStart`). Another command that compiles a spec checks the spec's schemas
        // against the 2020-12 meta-schema: compiling that (10M instructions, a third of a small
        // spec's compile) starts now likewise, which is why the command's name is looked at
        // before the arguments are parsed. An early compile makes the meta-schema itself, only
        // when the spec has a schema.
        if !EarlyStart.start(), let name = CommandLine.arguments.dropFirst().first, compilesSpecs.contains(name) {
            JSONSchema.prepareMetaSchema()
        }
        var status: Int32 = 0
        var failure: (error: WriteError, note: String?)?
        do {
            var command = try parsedArguments()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as WriteError {
            failure = (error, nil)
        } catch let error as RunOutputFailure {
            failure = (error.failure, error.note)
        } catch let error as ExitCodeError {
            status = error.code
        } catch let error as ExitCode {
            status = error.rawValue
        } catch {
            // Help and --version go to stdout and exit 0; every other parse or validation error
            // is a usage error, which is exit 2 for every pipe command (README, "Exit codes").
            let message = fullMessage(for: error)
            let success = exitCode(for: error) == .success
            status = success ? 0 : 2
            do {
                if !message.isEmpty { try success ? Terminal.write(message + "\n") : Terminal.writeError(message + "\n") }
            } catch {
                failure = (error, nil)
            }
        }
        // A write that could not throw (an event callback, the Ctrl-C message) fails the command too.
        if failure == nil, let error = OutputFile.standardOutput.failure ?? OutputFile.standardError.failure {
            failure = (error, nil)
        }
        if let failure { status = Terminal.exitStatus(for: failure.error, note: failure.note) }
        // Not `exit(withError: ExitCode(status))`: for an exit code ArgumentParser prints
        // nothing, but first builds its message and help generator (1.1M instructions after
        // the run's last reply). Not while libcurl starts on a thread of its own.
        HTTPClient.finishPreparing()
        Foundation.exit(status)
    }

    /// `parseAsRoot()`, without its look for `--generate-completion-script` when no argument
    /// names it. ArgumentParser looks for it in every parse, by parsing the arguments twice
    /// more (as an option with a shell, then as a flag): some 2 ms of the Swift runtime's first
    /// look-ups of the types it reflects on, a fifth of `pipe --version`'s CPU and a third of
    /// `pipe run`'s parse, while the spec compiles and libcurl loads on the other core
    /// (BENCHMARKS.md, session 21). It skips that look when the root command's configuration
    /// names a super-command (a plugin's pseudo-command) and reads that name nowhere else
    /// in a parse, only in help and usage texts, which are made after the parse, from
    /// `fullConfiguration` again (`HelpTests`).
    private static func parsedArguments() throws -> ParsableCommand {
        let asksForCompletions = CommandLine.arguments.dropFirst().contains { $0.contains("--generate-completion-script") }
        parsingWithoutCompletions.store(!asksForCompletions, ordering: .relaxed)
        defer { parsingWithoutCompletions.store(false, ordering: .relaxed) }
        return try parseAsRoot()
    }

    private static let parsingWithoutCompletions = Atomic<Bool>(false)

    private static let configurationWithoutCompletions = {
        var configuration = fullConfiguration
        configuration._superCommandName = ""
        return configuration
    }()

    /// The subcommands that compile a spec (`JSONSchema.prepareMetaSchema`).
    private static let compilesSpecs: Set<String> = [
        "run", "batch", "eval", "worker", "approve", "lint", "test", "tools", "graph",
    ]
}
