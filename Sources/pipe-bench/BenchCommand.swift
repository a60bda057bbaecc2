import Foundation

/// One `pipe-bench` subcommand: registered in `main.swift` by a single line.
struct BenchCommand: Sendable {
    /// The first argument that selects it.
    let name: String
    /// One line for the usage text.
    let summary: String
    /// What `--help` prints, and what a mistake in the options is followed by.
    let usage: String
    /// The options that take a value (`--runs N`), and those that take none (`--stream`).
    var valued: Set<String> = []
    var switches: Set<String> = []
    /// Runs with the options read; returns the exit status.
    let run: @Sendable (BenchOptions) async throws(BenchOptions.Exit) -> Int32

    /// Reads the options and runs: `--help` prints the usage and exits 0; an option that is not
    /// the command's, or lacks its value, prints the mistake and the usage and exits 2.
    func callAsFunction(_ arguments: [String]) async -> Int32 {
        do {
            return try await run(BenchOptions(arguments, of: self))
        } catch {
            return error.status
        }
    }
}

/// The options a `pipe-bench` subcommand was given, read once for all of them.
struct BenchOptions: Sendable {
    /// Why a subcommand stops before it measures: the status to exit with.
    struct Exit: Error { let status: Int32 }

    let usage: String
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    init(_ arguments: [String], of command: BenchCommand) throws(Exit) {
        usage = command.usage
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" {
                print(usage)
                throw Exit(status: 0)
            }
            if command.switches.contains(flag) {
                switches.insert(flag)
            } else if !command.valued.contains(flag) {
                throw mistake("unknown option \(flag)")
            } else if let value = rest.popFirst() {
                values[flag] = value
            } else {
                throw mistake("\(flag) needs a value")
            }
        }
    }

    /// Whether a switch was given.
    func isSet(_ name: String) -> Bool { switches.contains(name) }

    /// An option's value, nil when it was not given.
    func text(_ name: String) -> String? { values[name] }

    /// A required option's value.
    func required(_ name: String) throws(Exit) -> String {
        guard let value = values[name] else { throw mistake("\(name) is required") }
        return value
    }

    /// A whole number in `range`, `fallback` when the option was not given.
    func number(_ name: String, default fallback: Int, in range: ClosedRange<Int> = 1...Int.max) throws(Exit) -> Int {
        guard let value = values[name] else { return fallback }
        guard let number = Int(value), range.contains(number) else { throw invalid(name, value) }
        return number
    }

    /// The option's value is not one it takes: exits 2.
    func invalid(_ name: String, _ value: String) -> Exit {
        mistake("\(name): \(value.debugDescription) is not a valid value")
    }

    /// Prints the mistake and the usage on stderr; exits 2.
    func mistake(_ message: String) -> Exit {
        FileHandle.standardError.write(Data("\(message)\n\(usage)\n".utf8))
        return Exit(status: 2)
    }
}
