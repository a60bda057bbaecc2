import CSQLiteOptions
import Foundation
import GRDB

extension RunStore {
    /// Makes the store ready, on the calling thread (the one that opened the store, while the
    /// command compiles its spec and prepares the run), for the run that `pipe run` records:
    /// an empty `BEGIN IMMEDIATE` transaction takes the write lock, so a store that cannot be
    /// written fails here, before the run's first call, as its start did; it finds a free id
    /// for the run to come (`reservedID`), whose start is then queued without waiting
    /// (`queuedStart`). The first-time work of the run's other writes is queued behind that
    /// start (`warmWrites`), while the first call is in flight.
    ///
    /// It also puts the connection's WAL checkpoints where the run does not wait for them
    /// (`checkpointWhileCalling`).
    func warmUp() throws(StoreError) {
        let watch = WALWatch(limit: Self.inRunLimit)
        // Never freed: the connection of a recording store stays open until the process exits
        // (`keepOpenUntilExit`), and its hook points here.
        walWatch.withLock { $0 = watch }
        // The run's start, the first group, waits out a window too (unless something waits for
        // it, `hurry`): it is written while the first call is in flight, not on the other core
        // while the first request is made.
        recordsWindow.withLock { $0 = Self.recordsWindow }
        do {
            try database.writeWithoutTransaction { db in
                pipe_sqlite_watch_wal(db.sqliteConnection, watch.state)
                try db.inTransaction(.immediate) {
                    // The id of the run to come, found free now so that its start need not wait.
                    for _ in 0..<8 {
                        let id = RunID.make()
                        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?)", arguments: [id]) == false {
                            reservedID.withLock { $0 = id }
                            break
                        }
                    }
                    return .commit
                }
            }
        } catch {
            throw .database(path: path, reason: Self.reason(error))
        }
    }

    /// Queued behind the start of `pipe run`'s run (`queuedStart`), on the store's queue: the
    /// first-time work of the run's writes (its calls, stages, tool calls and end): the
    /// statements compiled into the connection's cache, a value of each type the records bind
    /// bound once. In a new process
    /// each of these first times costs the Swift runtime a lookup of conformances and generic
    /// metadata in the binary's tables, and SQLite a parse of the statement (0.8M
    /// instructions): done while the first call is in flight, it is neither on the thread
    /// that `pipe run`'s start waits for nor in the gap between the first reply and the next
    /// request, where the first records are written. Nothing is written.
    func warmWrites() {
        database.asyncWriteWithoutTransaction { db in
            for sql in [StoreJournal.insertCall, StoreJournal.insertStage, ToolCallRecord.insert { _ in "?" }, Self.updateEnd] {
                _ = try? db.cachedStatement(sql: sql)
            }
            let values: StatementArguments = ["", nil as String?, 0, nil as Int?, 0.0, nil as Double?, false]
            _ = try? Row.fetchOne(db, sql: "SELECT ?, ?, ?, ?, ?, ?, ?", arguments: values)
        }
    }

    /// Leaves the store's connection open until the process exits: `pipe run` records one run
    /// and ends, and GRDB's `DatabaseQueue` teardown (most of it `NotificationCenter`) was most
    /// of a millisecond after the run's output. Closing adds nothing to what is on disk: the run
    /// waits for its records and its end to be committed (`RunLifecycle.finish`), a commit is in
    /// the WAL file once it returns, and the store closes without a checkpoint anyway, so the
    /// file is left as a `kill -9` leaves it, which the next process reads as usual
    /// (`StoreCrashTests`).
    func keepOpenUntilExit() {
        _ = Unmanaged.passRetained(self)
    }
}

/// How full the write-ahead log of a recording store's connection is (`pipe_wal_watch`), kept
/// by SQLite's WAL hook on the store's queue and read there.
final class WALWatch: @unchecked Sendable {
    let state: UnsafeMutablePointer<pipe_wal_watch>

    init(limit: Int32) {
        state = .allocate(capacity: 1)
        state.initialize(to: pipe_wal_watch(frames: 0, limit: limit))
    }
}

extension RunStore {
    /// A checkpoint copies the WAL's frames into the database file and syncs both (two
    /// fsyncs: 0.4–49 ms each on a busy disk), and SQLite runs it in the commit that crosses
    /// `wal_autocheckpoint`: for `pipe run` that was, once in a few runs, the commit of its start
    /// (awaited before the first call) or of its end (awaited before exit). A recording
    /// connection checkpoints by itself only in a long run (`inRunLimit` frames); otherwise
    /// `checkpointWhileCalling` does it right after the run's start is committed, behind it on
    /// the store's queue, while the first call is in flight, once the WAL holds
    /// `checkpointFrames` (about two runs of five stages). Keeping the WAL that short also
    /// matters at the next start: every process that opens the store reads the whole WAL back
    /// (its first connection rebuilds the WAL index: about 1M instructions a megabyte, on the
    /// opening thread the run may wait for); after a checkpoint SQLite writes the WAL from its
    /// beginning again, and a new process reads back only the frames written since.
    static let checkpointFrames: Int32 = 100
    /// `recordsWindow` of `pipe run`'s store.
    static let recordsWindow = Duration.milliseconds(20)
    static let inRunLimit: Int32 = 1000

    /// Queued behind the run's start: a passive checkpoint if the WAL is long enough, which
    /// the run's records then queue behind while its calls are in flight. Nothing for a store
    /// that does not watch its WAL (`pipe batch`, `pipe logs`).
    func checkpointWhileCalling() {
        guard let watch = walWatch.withLock({ $0 }) else { return }
        database.asyncWriteWithoutTransaction { db in
            guard watch.state.pointee.frames >= Self.checkpointFrames else { return }
            _ = pipe_sqlite_checkpoint(db.sqliteConnection)
        }
    }
}
