import Foundation
import PipeKit

/// Where `pipe batch` and `pipe worker` queue a batch and record its items' runs: the
/// embedded SQLite run store (one process works on a batch at a time, holding it), or
/// PostgreSQL (`--queue URL` or PIPE_QUEUE: any number of workers, each item under a lease).
enum BatchQueue {
    case embedded(SQLiteWorkQueue)
    case postgres(PostgresWorkQueue, PostgresRunStore)

    /// `--queue`, else PIPE_QUEUE; nil: the embedded store.
    static func url(_ option: String?) -> String? {
        if let option { return option }
        if let variable = ProcessInfo.processInfo.environment["PIPE_QUEUE"], !variable.isEmpty { return variable }
        return nil
    }

    /// PostgreSQL at `url` (its tables created or upgraded), or the embedded store at
    /// `storePath`, created if missing; exit 2 when unusable.
    static func open(url: String?, storePath: @autoclosure () -> String, connections: Int = 1) async throws -> BatchQueue {
        try await BatchSession.orExit { () async throws(StoreError) in
            guard let url else { return .embedded(SQLiteWorkQueue(store: try RunStore(path: storePath()))) }
            let client = try await PostgresClient.open(url: url, connections: connections)
            return .postgres(PostgresWorkQueue(client: client), PostgresRunStore(client: client))
        }
    }

    /// The batches of an opened store, to read (`pipe logs`, `pipe report`); nil for a store
    /// that keeps none.
    static func reading(_ store: any RunCatalog) -> (any WorkQueue)? {
        if let store = store as? RunStore { return SQLiteWorkQueue(store: store) }
        if let store = store as? PostgresRunStore { return PostgresWorkQueue(client: store.client) }
        return nil
    }

    var queue: any WorkQueue {
        switch self {
        case .embedded(let queue): queue
        case .postgres(let queue, _): queue
        }
    }

    /// The items' runs.
    var lifecycle: RunLifecycle {
        switch self {
        case .embedded(let queue): RunLifecycle(store: queue.store, holdsRuns: false)
        case .postgres(_, let runs): RunLifecycle(store: runs, holdsRuns: false)
        }
    }

    /// Where it is, for messages (a PostgreSQL URL without its password).
    var location: String {
        switch self {
        case .embedded(let queue): queue.store.path
        case .postgres(let queue, _): queue.client.location
        }
    }

    /// The option that names it again: `--store PATH` or `--queue URL`.
    var option: String {
        switch self {
        case .embedded(let queue): "--store \(queue.store.path)"
        case .postgres(let queue, _): "--queue \(queue.client.location)"
        }
    }

    /// Takes the batch for this process. Embedded: one process at a time (a lease file);
    /// PostgreSQL: nothing to take, every item has its own lease.
    func hold(_ batch: String) throws(StoreError) {
        switch self {
        case .embedded(let queue): try queue.store.leases.acquire(batch)
        case .postgres: break
        }
    }

    func letGo(_ batch: String) {
        switch self {
        case .embedded(let queue): queue.store.leases.release(batch)
        case .postgres: break
        }
    }

    /// Items a stopped process left marked running, given back (how many). Embedded only: the
    /// batch is held, so whatever is running was abandoned; on PostgreSQL other workers may be
    /// running them, and an abandoned item comes back when its lease lapses.
    func releaseAbandoned(_ batch: String) async throws(StoreError) -> Int {
        switch self {
        case .embedded(let queue): try await queue.releaseAbandoned(batch: batch)
        case .postgres: 0
        }
    }
}

/// The spec a batch carries: its hash over the spec's text and schema files, and its
/// compilation from them (what `pipe worker` runs, without the spec file).
enum BatchSpec {
    /// SHA-256 of the spec's text, then of each schema file's path and text in path order
    /// (the spec's text alone when it has none).
    static func hash(_ text: String, files: [String: String]) -> String {
        SHA256.hex(files.sorted { $0.key < $1.key }.reduce(text) { $0 + "\u{0}\($1.key)\u{0}\($1.value)" })
    }

    /// The pipeline of a batch's stored spec and schema files (exit 2 when it does not compile
    /// or does not match its hash).
    static func compile(_ info: BatchInfo) throws -> CompiledPipeline {
        guard hash(info.specText, files: info.schemaFiles) == info.specHash else {
            try Terminal.writeError("pipe: batch \(info.id): its stored spec does not match its hash\n")
            throw ExitCodeError(code: 2)
        }
        let source = SourceFile(path: info.specPath, bytes: Array(info.specText.utf8))
        let result = Compiler.compile(source, schemaFiles: .stored(info.schemaFiles))
        guard let pipeline = result.pipeline else {
            try TextFormat(color: false).write([LintedFile(source: source, diagnostics: result.diagnostics)], to: Terminal.writeError)
            throw ExitCodeError(code: 2)
        }
        return pipeline
    }
}
