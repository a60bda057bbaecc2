// Benchmarks for pipe. Each benchmark prints its figures; BENCHMARKS.md records them with this command.
// Usage: pipe-bench BENCHMARK [OPTIONS]; build with `swift build -c release` first.
import PipeKit

/// Registered benchmarks: name → (one-line description, entry point taking the remaining arguments).
let benchmarks: [(name: String, summary: String, run: ([String]) throws -> Void)] = [
    ("validate", "JSON Schema validation of a ~100 KB document (see BENCHMARKS.md)", ValidatorBenchmark.run),
]

let arguments = Array(CommandLine.arguments.dropFirst())
if let name = arguments.first, let benchmark = benchmarks.first(where: { $0.name == name }) {
    try benchmark.run(Array(arguments.dropFirst()))
} else {
    print("usage: pipe-bench BENCHMARK [OPTIONS]\n\nbenchmarks:")
    for benchmark in benchmarks { print("  \(benchmark.name)\t\(benchmark.summary)") }
}
