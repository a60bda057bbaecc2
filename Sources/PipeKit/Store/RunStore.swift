import Foundation
import GRDB

/// Every run, stage and model call, in one SQLite file (`.pipe/pipe.db` beside the spec).
/// Each record is written in its own transaction the moment it happens, so a crash or
/// `kill -9` loses at most the calls in flight. WAL mode and a busy timeout let several
/// `pipe` processes write one store at once. The file is private (0600); it holds prompts,
/// inputs and replies, never an API key.
public final class RunStore: Sendable {
    public let path: String
    /// One connection: a run writes a record at a time and reads a few rows, and a
    /// `DatabasePool`'s extra reader, threads and code cost a run megabytes for nothing.
    /// WAL mode still lets other processes read and write the file meanwhile.
    let database: DatabaseQueue

    /// Which process runs each run now (`<store>.locks/`).
    public let leases: any RunLeases

    /// How long a write waits for another process's transaction before it fails.
    static let busyTimeout: TimeInterval = 10

    /// `.pipe/pipe.db` in the spec's folder (the current folder for a spec read from stdin).
    public static func defaultPath(forSpec specPath: String) -> String {
        let directory = specPath == "-" ? "" : (specPath as NSString).deletingLastPathComponent
        return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(".pipe/pipe.db")
    }

    /// Opens the store, creating the file (and its folder) if needed and bringing its tables
    /// up to date. Runs are held with lock files in `<path>.locks/` unless `leases` says otherwise.
    public init(path: String, leases: (any RunLeases)? = nil) throws(StoreError) {
        self.path = path
        self.leases = leases ?? FileRunLeases(directory: path + ".locks")
        try StoreFile.prepare(path)
        database = try Self.open(path)
    }

    /// Opens the connection and migrates. A new file is switched to WAL mode and given its tables
    /// by whichever process gets there first; SQLite answers "database is locked" at once,
    /// without waiting, to the others when they race it, so they try again a little later.
    private static func open(_ path: String) throws(StoreError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "pipe.store"
        configuration.journalMode = .wal
        // A small page cache keeps the store's memory low (SQLite's default is 2 MB).
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -256") }
        var tries = 0
        while true {
            do {
                let database = try DatabaseQueue(path: path, configuration: configuration)
                try StoreSchema.migrate(database)
                return database
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && tries < 50 {
                tries += 1
                Thread.sleep(forTimeInterval: 0.02 * Double.random(in: 0.5...1.5))
            } catch {
                throw .cannotOpen(path: path, reason: reason(error))
            }
        }
    }

    /// Records a run as `running` and returns its new id; this process holds the run (see
    /// `leases`) until `finishRun`.
    public func startRun(_ run: NewRun) throws(StoreError) -> String {
        let process = RunHolder.current
        let startedAt = Date()
        let arguments: (String) -> StatementArguments = { id in
            [
                id, StoreFile.canonical(run.specPath), run.specHash, run.pipelineName, RunStatus.running.rawValue,
                StoreTime.text(startedAt), run.input.serialized(), run.traceID, run.resumedFrom,
                process.pid.map { Int($0) }, process.host,
            ]
        }
        // The 4 random hex digits make a clash within one second unlikely, not impossible.
        for _ in 0..<8 {
            let id = RunID.make(at: startedAt)
            // Held before it is recorded, so that it never shows as a run whose process is gone.
            do {
                try leases.acquire(id)
            } catch .runInUse {
                continue
            }
            let inserted: Bool
            do {
                inserted = try write { db in
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO runs
                                (id, spec_path, spec_hash, name, status, started_at, input, trace_id, resumed_from, pid, host)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: arguments(id))
                    return db.changesCount == 1
                }
            } catch {
                leases.release(id)
                throw error
            }
            if inserted { return id }
            leases.release(id)
        }
        throw .database(path: path, reason: "could not find a free run id")
    }

    /// Records how a run ended, and lets go of it.
    public func finishRun(_ id: String, _ end: RunEnd) throws(StoreError) {
        defer { leases.release(id) }
        try write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, finished_at = ?, duration_ms = ?, output = ?, tokens_in = ?,
                        tokens_out = ?, cost_usd = ?, error = ?
                    WHERE id = ?
                    """,
                arguments: [
                    end.status.rawValue, StoreTime.text(Date()), StoreTime.milliseconds(end.wall),
                    end.output?.serialized(), end.usage.input, end.usage.output, end.costUSD, end.error, id,
                ])
        }
    }

    /// The journal a run writes its calls and stages through. It reuses stage outputs of the
    /// run `reusingFrom` (`--resume`; nil: none) and successful replies of any run (`--cache`).
    public func journal(runID: String, reusingFrom: String?) -> StoreJournal {
        StoreJournal(store: self, runID: runID, reusingFrom: reusingFrom)
    }

    // MARK: - Access

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.write(body)
        } catch {
            throw .database(path: path, reason: Self.reason(error))
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw .database(path: path, reason: Self.reason(error))
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "SQLite error \(error.resultCode.rawValue)"
        }
        return "\(error)"
    }
}
