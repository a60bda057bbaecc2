/// One `pipe-bench` subcommand: registered in `main.swift` by a single line.
struct BenchCommand: Sendable {
    /// The first argument that selects it.
    let name: String
    /// One line for the usage text.
    let summary: String
    /// Runs with the remaining arguments; returns the exit status.
    let run: @Sendable ([String]) async -> Int32
}
