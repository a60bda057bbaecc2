import Foundation
import GRDB

extension RunStore {
    /// Queues, first on the store's queue, the first-time work of a run's writes, so that it is
    /// done while the command compiles its spec and prepares the run: the statements a run
    /// writes with (its start, its calls, stages and tool calls, its end) compiled into the
    /// connection's cache, the way a write is queued and committed taken once, and a value of
    /// each type the records bind bound once. In a new process each of these first times costs
    /// the Swift runtime a lookup of conformances and generic metadata in the binary's tables,
    /// and SQLite a parse of the statement: work that was on the run's critical path, in its
    /// start record before the first call (BENCHMARKS.md, "Run store off the critical path").
    /// Nothing is written (the transaction is empty); a store that cannot be written fails the
    /// run's start as before, with the same message: a failure here is not reported.
    ///
    /// The connection also checkpoints its WAL at 200 pages instead of SQLite's 1000: every
    /// process that opens the store reads the whole WAL back (its first connection rebuilds
    /// the WAL's index), about 1M instructions a megabyte, on the opening thread, which the run
    /// then waits for; a 5-stage run writes some 40 pages, so a checkpoint (two syncs, on the
    /// store's queue, mostly while the calls are in flight) comes every five runs or so.
    func warmUp() {
        enqueue({ db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 200")
            for sql in [Self.insertRun, StoreJournal.insertCall, StoreJournal.insertStage, ToolCallRecord.insert { _ in "?" }, Self.updateEnd] {
                _ = try db.cachedStatement(sql: sql)
            }
            let values: StatementArguments = ["", nil as String?, 0, nil as Int?, 0.0, nil as Double?, false]
            _ = try Row.fetchOne(db, sql: "SELECT ?, ?, ?, ?, ?, ?, ?", arguments: values)
        }, done: { _ in })
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
