import Foundation
import GRDB

extension RunStore {
    /// Does the first-time work of a run's writes on the calling thread, the one that opened
    /// the store while the command compiles its spec: the statements a run writes with
    /// (its start, its calls, stages and tool calls, its end) compiled into the connection's
    /// cache, the way a write is queued and committed taken once, and a value of each type the
    /// records bind bound once. In a new process each of these first times costs the Swift
    /// runtime a lookup of conformances and generic metadata in the binary's tables, and SQLite a
    /// parse of the statement: work that was on the run's critical path, in its start record
    /// before the first call (BENCHMARKS.md, "Run store off the critical path"). Nothing is
    /// written (the transaction is empty); a store that cannot be written fails the run's start
    /// as before, with the same message: a failure here is not reported.
    func warmUp() {
        let done = DispatchSemaphore(value: 0)
        enqueue({ db in
            for sql in [Self.insertRun, StoreJournal.insertCall, StoreJournal.insertStage, ToolCallRecord.insert { _ in "?" }, Self.updateEnd] {
                _ = try db.cachedStatement(sql: sql)
            }
            let values: StatementArguments = ["", nil as String?, 0, nil as Int?, 0.0, nil as Double?, false]
            _ = try Row.fetchOne(db, sql: "SELECT ?, ?, ?, ?, ?, ?, ?", arguments: values)
        }, done: { _ in done.signal() })
        done.wait()
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
