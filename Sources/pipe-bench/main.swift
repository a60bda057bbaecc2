// Benchmarks for pipe. Each benchmark prints its figures; BENCHMARKS.md records them with this command.
import Foundation
import PipeKit

/// Every subcommand, one line each.
let commands: [BenchCommand] = [
    FakeServerCommand.command,
    HTTPBenchmark.command,
    ValidatorBenchmark.command,
    StoreBenchmark.command,
    RunnerBenchmark.command,
    QueueBenchmark.command,
    StoreOverheadBenchmark.command,
    FanOutBenchmark.command,
    FanOutBenchmark.client,
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let command = commands.first(where: { $0.name == name }) else {
    print("usage: pipe-bench COMMAND [ARGUMENTS]\n\ncommands:")
    for command in commands { print("  \(command.name)  \(command.summary)") }
    exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 2)
}
exit(await command(Array(arguments.dropFirst())))
