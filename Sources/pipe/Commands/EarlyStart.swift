import Foundation
import PipeKit

/// What `pipe run` needs first, started on threads of their own at the process's start, before
/// ArgumentParser parses the arguments: that parse is some 20M instructions of the Swift
/// runtime's first type look-ups (a few milliseconds), during which the other core was idle.
///
/// Started from a guess at the arguments, which the command then checks against what
/// ArgumentParser parsed: it takes what was started only when it is what it asks for, and
/// otherwise starts it as before. A wrong guess costs only the other core's time: nothing is
/// printed or created (a store it opens is only brought up to date, as any command that opens
/// it does). The guess knows the names of `pipe run`'s `--store`, `--no-store` and `--dry-run`:
/// should one change, the store would open after the parse again, as slowly, not wrongly
/// (`EarlyStartTests`).
/// - The spec (`run` and `batch`): the first argument that ends in `.yaml` or `.yml` and
///   names a regular file (a FIFO is never read here: it could not be read again), read and
///   compiled (`SpecFile.earlyCompiledOrExit`).
/// - libcurl and OpenSSL, for `pipe run` without `--mock`, `--dry-run` or `--replay`
///   (`HTTPClient.prepareShared`, which the command calls again, to no effect).
/// - `pipe run`'s run store, when it exists already (a missing store is created only once
///   the spec has compiled): `--store PATH`, else `PIPE_STORE`, else beside the guessed spec;
///   none with `--no-store` or `--dry-run` (`RunCommand.run`).
enum EarlyStart {
    /// Starts what the arguments call for; whether the spec is being compiled.
    static func start() -> Bool {
        // Made on a thread of its own too: the first use of the types its opening takes (the
        // Swift runtime's look-ups of their metadata and conformances) and of `FileManager` was
        // a millisecond of the main thread's, before the parse (BENCHMARKS.md, session 18).
        if recordedSpec != nil { startOnOwnThread { _ = store } }
        if callsModels { HTTPClient.prepareShared() }
        return compile != nil
    }

    /// Whether `pipe run` will call models: not with `--mock`, `--dry-run` or `--replay`
    /// (libcurl's and OpenSSL's start, `HTTPClient.prepareShared`).
    static var callsModels: Bool {
        guard runSpec != nil else { return false }
        return !runOptions.contains { ["--mock", "--dry-run", "--replay"].contains($0) || $0.hasPrefix("--replay=") }
    }

    static let compile: (path: String, compiled: Eventually<Result<SpecFile.Compiled, SpecFile.Unreadable>>)? = {
        guard let command = arguments.first, command == "run" || command == "batch", let path = spec else { return nil }
        return (path, Eventually.onOwnThread { Result { () throws(SpecFile.Unreadable) in try SpecFile.compile(path) } })
    }()

    static let store: (path: String, opening: Eventually<Result<RunRecording, StoreError>>)? = {
        guard let spec = recordedSpec else { return nil }
        var given: String?
        for (index, argument) in zip(runOptions.indices, runOptions) {
            if argument == "--store", index + 1 < runOptions.endIndex { given = runOptions[index + 1] }
            if argument.hasPrefix("--store=") { given = String(argument.dropFirst("--store=".count)) }
        }
        let path = RunRecording.path(store: given, spec: spec)
        guard RunStores.exists(path) else { return nil }
        return (path, RunRecording.opening(path, spec: spec))
    }()

    private static let arguments = Array(CommandLine.arguments.dropFirst())

    /// `pipe run`'s arguments up to `--`, after which ArgumentParser reads none as an option.
    private static let runOptions = arguments.dropFirst().prefix { $0 != "--" }

    /// The spec `pipe run` is guessed to run.
    private static var runSpec: String? { arguments.first == "run" ? spec : nil }

    /// The spec of a `pipe run` that records its run (not with `--no-store` or `--dry-run`).
    private static var recordedSpec: String? {
        guard let spec = runSpec, !runOptions.contains("--no-store"), !runOptions.contains("--dry-run") else { return nil }
        return spec
    }

    private static let spec: String? = arguments.dropFirst().first { argument in
        guard argument.hasSuffix(".yaml") || argument.hasSuffix(".yml") else { return false }
        var info = stat()
        return stat(argument, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }
}
