// Benchmarks for pipe. Each benchmark prints its figures; BENCHMARKS.md records them with this command.
import PipeKit

let arguments = Array(CommandLine.arguments.dropFirst())
print("usage: pipe-bench BENCHMARK (none registered yet)")
