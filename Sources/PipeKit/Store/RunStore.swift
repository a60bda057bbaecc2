import CSQLiteOptions
import Foundation
import GRDB

/// Every run, stage and model call, in one SQLite file (`.pipe/pipe.db` beside the spec): the
/// embedded implementation of the storage ports (`RunCatalog`, `RunApprovals`, and each run's
/// `DurableJournal`). Every access goes through one connection's serial queue, off Swift
/// concurrency's threads: a run's records are queued there in order and a read waits for the
/// writes queued before it. WAL mode with `synchronous=NORMAL`: a commit is not synced to
/// disk, yet survives a killed process (only a power loss can lose the last commits); the
/// WAL is checkpointed as it grows, not when a process closes the store. A busy timeout lets
/// several `pipe` processes write one store at once. The file is private
/// (0600); it holds prompts, inputs and replies, never an API key.
public final class RunStore: RunStorage {
    public let path: String
    /// One connection: a run writes a record at a time and reads a few rows, and a
    /// `DatabasePool`'s extra reader, threads and code cost a run megabytes for nothing.
    /// WAL mode still lets other processes read and write the file meanwhile.
    let database: DatabaseQueue

    /// Which process runs each run now (`<store>.locks/`).
    public let leases: any RunLeases

    /// The WAL hook's state, for a store that records `pipe run`'s run (`warmUp`).
    let walWatch = Locked<WALWatch?>(nil)

    /// A run id `warmUp` found free, for the run `pipe run` starts (`queuedStart`).
    let reservedID = Locked<String?>(nil)

    /// The runs whose queued start could not be written, and why (`queuedStart`).
    let unstarted = Locked<[String: StoreError]>([:])

    /// How long a write waits for another process's transaction before it fails.
    static let busyTimeout: TimeInterval = 10

    public var location: String { path }

    /// `.pipe/pipe.db` in the spec's folder (the current folder for a spec read from stdin).
    public static func defaultPath(forSpec specPath: String) -> String {
        let directory = specPath == "-" ? "" : (specPath as NSString).deletingLastPathComponent
        return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(".pipe/pipe.db")
    }

    /// Whether a store file is at `path` (a `stat`: `FileManager`'s first use in a process costs
    /// `pipe run` a tenth of a millisecond before its first call).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Opens the store, creating the file (and its folder) if needed and bringing its tables
    /// up to date. Runs are held with lock files in `<path>.locks/` unless `leases` says otherwise.
    /// With `recording` (`pipe run`'s store), its writes run at a lower priority (`open`).
    public init(path: String, leases: (any RunLeases)? = nil, recording: Bool = false) throws(StoreError) {
        self.path = path
        self.leases = leases ?? FileRunLeases(directory: path + ".locks")
        try StoreFile.prepare(path)
        database = try Self.open(path, recording: recording)
    }

    /// Opens the connection and migrates. A new file is switched to WAL mode and given its tables
    /// by whichever process gets there first; SQLite answers "database is locked" at once,
    /// without waiting, to the others when they race it, so they try again a little later.
    private static func open(_ path: String, recording: Bool) throws(StoreError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "pipe.store"
        // WAL mode, `synchronous=NORMAL`, a small page cache (SQLite's default is 2 MB) and no
        // checkpoint on close: a `pipe` process that ends leaves its commits in the WAL for the
        // next one, where the checkpoint SQLite does on the last close would cost each run four
        // fsyncs (checkpoint, then a new WAL and its folder at the next open). Set in C, not
        // with GRDB's `journalMode = .wal`, whose check of the WAL file through Foundation cost
        // a new process more than the rest of the settings (BENCHMARKS.md, "Run store").
        // A store that records `pipe run`'s run writes its records at a lower priority than the
        // run's own threads (GRDB's default, user-initiated, is nice -2 on Linux, above the HTTP
        // thread's 0): on two cores its writes then yield to the next request being made, and
        // take the CPU while the calls are in flight.
        if recording { configuration.qos = .utility }
        let current = Locked(false)
        configuration.prepareDatabase { db in
            var wal: Int32 = 0
            let code = pipe_sqlite_set_up_store(db.sqliteConnection, &wal)
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            guard wal != 0 else { throw DatabaseError(message: "could not switch the store to WAL mode") }
            current.withLock { $0 = StoreSchema.isCurrent(db.sqliteConnection) }
        }
        var tries = 0
        while true {
            do {
                let database = try DatabaseQueue(path: path, configuration: configuration)
                if !current.withLock({ $0 }) { try StoreSchema.migrate(database) }
                return database
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && tries < 50 {
                tries += 1
                Thread.sleep(forTimeInterval: 0.02 * Double.random(in: 0.5...1.5))
            } catch {
                throw .cannotOpen(path: path, reason: reason(error))
            }
        }
    }

    static let insertRun = """
        INSERT INTO runs (id, spec_path, spec_hash, name, status, started_at, input, trace_id, resumed_from,
            batch_id, item)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO NOTHING
        """

    static let updateEnd = """
        UPDATE runs SET status = ?, finished_at = ?, duration_ms = ?, output = ?, tokens_in = ?,
            tokens_out = ?, cost_usd = ?, error = ?
        WHERE id = ?
        """

    public func startRun(_ run: NewRun) async throws(StoreError) -> String {
        let id: String
        if let queued = try queuedStart(run) {
            id = queued
        } else {
            id = try await startRun(run) { db, id, startedAt in try Self.insert(run, id: id, startedAt: startedAt, into: db) }
        }
        checkpointWhileCalling()
        return id
    }

    /// The run's start queued, not awaited, under the id `warmUp` found free (`pipe run`'s
    /// store: the run's first call need not wait for a round trip through the store's queue).
    /// Nil, to start it the usual way, without such an id or when it is held already. The
    /// store was written to when it opened, so the insert fails only on a full disk or when
    /// another process recorded a run with this id since (in the same second, with the same
    /// four random hex digits: a batch's item, which holds no lock file, or a run that began
    /// and ended in between); then its records are not written either and `finishRun` says
    /// so (`unstarted`).
    private func queuedStart(_ run: NewRun) throws(StoreError) -> String? {
        guard run.held, let id = reservedID.withLock({ reserved in defer { reserved = nil }; return reserved }) else { return nil }
        do {
            try leases.acquire(id)
        } catch .runInUse {
            return nil
        }
        let startedAt = Date()
        // Known to the run's records at once, on the store's queue: a group of queued writes
        // holds the start and the records after it, and each record checks it (`checkStarted`).
        enqueueStart(id) { db in try Self.insert(run, id: id, startedAt: startedAt, into: db) }
        warmWrites()
        return id
    }

    /// Queues a run's start under `id`: should `insert` find the id taken (false) or fail, the
    /// run's records and end are not written either (`unstarted`, `checkStarted`).
    private func enqueueStart(_ id: String, insert: @escaping @Sendable (Database) throws -> Bool) {
        enqueue({ [path, unstarted] db in
            do {
                guard try insert(db) else {
                    throw StoreError.database(path: path, reason: "another run was recorded with its id, \(id), meanwhile")
                }
                unstarted.withLock { $0[id] = nil }
            } catch {
                unstarted.withLock { $0[id] = error as? StoreError ?? .database(path: path, reason: Self.reason(error)) }
                throw error
            }
        }, done: { [unstarted] failure in
            if let failure { unstarted.withLock { $0[id] = failure } }
        })
    }

    /// A batch item's run start queued, not awaited, so that the item's first call does not
    /// wait for a commit: its records, the item's finish and the run's end are queued after
    /// it, so a killed process loses them all or none. Its id is not checked before it is
    /// used, so it has 48 random bits (`RunID.makeLong`): should another run have been
    /// recorded with it meanwhile all the same, `insert` finds it taken (false) and neither
    /// the start nor the run's records or end are written (`unstarted`, `isStarted`). Nil, to
    /// start it the usual way, for a run held with a lock file.
    func queuedItemStart(_ run: NewRun, insert: @escaping @Sendable (Database, String, Date) throws -> Bool) -> String? {
        guard !run.held else { return nil }
        let startedAt = Date()
        let id = RunID.makeLong(at: startedAt)
        enqueueStart(id) { db in try insert(db, id, startedAt) }
        return id
    }

    /// Whether run `id`'s start was written, or is not known to have failed (on the store's
    /// queue, after the start's write: `queuedItemStart`).
    func isStarted(_ id: String) -> Bool {
        unstarted.withLock { $0[id] == nil }
    }

    /// Records a run as started with a new id: `insert` writes its row, unless the id is
    /// taken (false), in which case another id is tried.
    func startRun(_ run: NewRun, insert: @escaping @Sendable (Database, String, Date) throws -> Bool)
        async throws(StoreError) -> String
    {
        let startedAt = Date()
        // The 4 random hex digits make a clash within one second unlikely, not impossible.
        for _ in 0..<8 {
            let id = RunID.make(at: startedAt)
            // Held before it is recorded, so that it never shows as a run whose process is gone.
            if run.held {
                do {
                    try leases.acquire(id)
                } catch .runInUse {
                    continue
                }
            }
            let inserted: Bool
            do {
                inserted = try await write { db in try insert(db, id, startedAt) }
            } catch {
                leases.release(id)
                throw error
            }
            if inserted { return id }
            leases.release(id)
        }
        throw .database(path: path, reason: "could not find a free run id")
    }

    public func finishRun(_ id: String, _ end: RunEnd) async throws(StoreError) {
        defer { leases.release(id) }
        let update = Self.update(id, ending: end)
        try await write { [self] db in
            try checkStarted(id)
            try update(db)
        }
    }

    /// Throws, on the store's queue, when run `id`'s queued start could not be written: its
    /// records and its end are then not written (`queuedStart`).
    func checkStarted(_ id: String) throws(StoreError) {
        if let failure = unstarted.withLock({ $0[id] }) {
            throw .database(path: path, reason: "run \(id)'s start could not be recorded: \(failure)")
        }
    }

    /// Writes a new run's row (as `running`; for a batch's item, knowing its batch and item);
    /// false, and nothing written, when `id` is taken.
    static func insert(_ run: NewRun, id: String, startedAt: Date, batchItem: (batch: String, index: Int)? = nil, into db: Database)
        throws -> Bool
    {
        try db.run(
            insertRun, id, StoreFile.canonical(run.specPath), run.specHash, run.pipelineName, RunStatus.running.rawValue,
            StoreTime.text(startedAt), run.input.serialized(), run.traceID, run.resumedFrom, batchItem?.batch,
            batchItem?.index)
        return db.changesCount == 1
    }

    /// The write that records how run `id` ended (its arguments taken now, at its end).
    static func update(_ id: String, ending end: RunEnd) -> @Sendable (Database) throws -> Void {
        let (finished, milliseconds, output) = (StoreTime.text(Date()), StoreTime.milliseconds(end.wall), end.output?.serialized())
        return { db in
            try db.run(
                updateEnd, end.status.rawValue, finished, milliseconds, output, end.usage.input, end.usage.output, end.costUSD,
                end.error, id)
        }
    }

    public func journal(runID: String, reusingFrom: String?) -> any DurableJournal {
        StoreJournal(store: self, runID: runID, reusingFrom: reusingFrom)
    }

    public func hold(_ id: String) async throws(StoreError) {
        try leases.acquire(id)
    }

    public func release(_ id: String) async {
        leases.release(id)
    }

    // MARK: - Access

    /// A write queued and not yet begun.
    private struct QueuedWrite {
        let updates: @Sendable (Database) throws -> Void
        let done: @Sendable (StoreError?) -> Void
    }

    /// The writes handed over since the last group began; nonempty means a group is queued
    /// on the connection's queue that will take them.
    private let queued = Locked<[QueuedWrite]>([])

    /// `pipe run`'s store (`warmUp`): how long a group of writes waits for more records to
    /// commit with it, from its first write and from the last commit, unless something waits
    /// for them (`hurry`). Nil: none.
    let recordsWindow = Locked<Duration?>(nil)
    /// When the last group was committed (long ago for the first).
    private let lastCommit = Locked(ContinuousClock.now - .seconds(1))
    /// Whether something waits for the writes queued now (`hurry`); guarded by `hurrying`.
    nonisolated(unsafe) private var hurried = false
    private let hurrying = NSCondition()

    /// A run's records come in bursts (a fan-out's replies arrive together), and each commit
    /// writes every page it changed to the WAL again: committed at most once a window, the
    /// records of a burst share a commit (a 500-stage run wrote about half the WAL frames,
    /// and its writer took less of the cores its next requests needed: BENCHMARKS.md). A group
    /// waits a window from its first write too, not only from the last commit, so that a
    /// wave's first records do not commit alone while the wave's next requests are made. The
    /// window ends early when something waits for the writes (`hurry`: a flush, the run's end,
    /// a read) and when no unit of the run is running (`RunJournal.idle`: a chain's stage has
    /// ended, or the last one). A `kill -9` may lose the records of the last window, besides
    /// the calls in flight.
    private func waitForMoreRecords(queuedAt: ContinuousClock.Instant) {
        guard let window = recordsWindow.withLock({ $0 }) else { return }
        let end = max(lastCommit.withLock { $0 }, queuedAt) + window
        hurrying.lock()
        defer {
            hurried = false
            hurrying.unlock()
        }
        while !hurried {
            let left = end - .now
            guard left > .zero else { break }
            _ = hurrying.wait(until: Date(timeIntervalSinceNow: Double(left / .nanoseconds(1)) / 1e9))
        }
    }

    /// Ends the wait of the group that will write what is queued now (`waitForMoreRecords`).
    func hurry() {
        guard recordsWindow.withLock({ $0 }) != nil, !queued.withLock({ $0.isEmpty }) else { return }
        hurrying.lock()
        hurried = true
        hurrying.signal()
        hurrying.unlock()
    }

    /// Queues `updates` behind every access queued before it, and returns at once; `done` is
    /// told how it went (on the store's queue), once it is committed. The writes queued while
    /// the connection is busy are committed together, in one transaction (each in its own
    /// savepoint, so that one that fails takes nothing else with it): the runs of a batch,
    /// whose starts, records and ends would each be a transaction, share their commits.
    func enqueue(_ updates: @escaping @Sendable (Database) throws -> Void, done: @escaping @Sendable (StoreError?) -> Void) {
        let first = queued.withLock { writes in
            writes.append(QueuedWrite(updates: updates, done: done))
            return writes.count == 1
        }
        guard first else { return }
        let queuedAt = ContinuousClock.now
        database.asyncWriteWithoutTransaction { [self] db in writeQueued(db, queuedAt: queuedAt) }
    }

    /// Writes every queued write in one transaction, in the order they were queued: all of
    /// them at once, and only when one fails (the transaction rolled back) again each in a
    /// savepoint of its own, so that the others are kept. (A savepoint for every write cost
    /// more than the write itself: BENCHMARKS.md, `pipe batch`.)
    private func writeQueued(_ db: Database, queuedAt: ContinuousClock.Instant) {
        waitForMoreRecords(queuedAt: queuedAt)
        let writes = queued.withLock { writes in
            defer { writes = [] }
            return writes
        }
        defer { lastCommit.withLock { $0 = .now } }
        if (try? db.inTransaction(.immediate, {
            for write in writes { try write.updates(db) }
            return .commit
        })) != nil {
            for write in writes { write.done(nil) }
            return
        }
        var failures = [StoreError?](repeating: nil, count: writes.count)
        do {
            try db.inTransaction(.immediate) {
                for (index, write) in writes.enumerated() {
                    do {
                        try db.inSavepoint {
                            try write.updates(db)
                            return .commit
                        }
                    } catch {
                        failures[index] = .database(path: path, reason: Self.reason(error))
                    }
                }
                return .commit
            }
        } catch {
            let failure = StoreError.database(path: path, reason: Self.reason(error))
            failures = failures.map { $0 ?? failure }
        }
        for (write, failure) in zip(writes, failures) { write.done(failure) }
    }

    /// Waits for the write (queued as `enqueue` does) without blocking a Swift concurrency
    /// thread, and without being cancelled with the calling task (what a run records while
    /// it stops is kept).
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        let value = Locked<T?>(nil)
        let failure: StoreError? = await withCheckedContinuation { continuation in
            enqueue({ db in
                let result = try updates(db)
                value.withLock { $0 = result }
            }, done: { continuation.resume(returning: $0) })
            hurry()
        }
        if let failure { throw failure }
        guard let result = value.withLock({ $0 }) else { throw .database(path: path, reason: "the write returned nothing") }
        return result
    }

    /// Reads after every access queued before it, without blocking a Swift concurrency thread.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        hurry()
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            database.asyncRead { [path] database in
                continuation.resume(returning: Result { try value(database.get()) }
                    .mapError { .database(path: path, reason: Self.reason($0)) })
            }
        }
        return try result.get()
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "SQLite error \(error.resultCode.rawValue)"
        }
        return "\(error)"
    }
}
