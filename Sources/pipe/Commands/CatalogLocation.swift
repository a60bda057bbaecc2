import ArgumentParser
import PipeKit

/// Where `pipe logs` and `pipe report` read runs: a store file, the store beside a spec, or
/// PostgreSQL.
struct CatalogLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The run store file.", valueName: "path"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Read runs and batches from PostgreSQL (default: PIPE_QUEUE).", valueName: "url"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp(
        "Use the store beside this spec, and only its runs (for `last`, and for the list of `pipe logs`).", valueName: "spec"))
    var spec: String?

    /// The store's file or the queue's URL.
    var path: String { BatchQueue.url(queue) ?? RunRecording.path(store: store, spec: spec) }

    /// The runs at `path`; exit 2, with why on stderr, when there is no store there or it cannot be read.
    func open() async throws -> any RunCatalog {
        do {
            return try await RunStores.open(path, create: false)
        } catch .missing {
            throw try Self.failure(
                "no run store at \(path): `pipe run` creates it beside the spec; name another with --store or PIPE_STORE")
        } catch {
            throw try Self.failure(error.description)
        }
    }

    /// Says what is wrong on stderr; the command exits 2.
    static func failure(_ message: String) throws(WriteError) -> ExitCodeError {
        try Terminal.writeError("pipe: \(message)\n")
        return ExitCodeError(code: 2)
    }
}
