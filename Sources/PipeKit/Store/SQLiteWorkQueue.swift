import Foundation
import GRDB

/// The embedded work queue: a batch and its items in the run store's SQLite file, beside the
/// runs their items make. Claims are transactions of the one writer SQLite allows, so no two
/// processes take the same item; a lease is a time in the item's row, renewed by its holder.
/// The SQL is the kind PostgreSQL also accepts (`ON CONFLICT`, no `rowid`).
public final class SQLiteWorkQueue: WorkQueue {
    public let store: RunStore

    /// The queue in `store`'s file. Its connection then commits without waiting for the disk
    /// (SQLite's `synchronous = NORMAL` in WAL mode): a batch commits several times an item,
    /// and a disk flush each (1–4 ms here) would bound it to a few hundred items a second. A
    /// process that crashes or is killed still loses nothing committed; a power cut may lose
    /// the last commits, whose items then run again.
    public init(store: RunStore) {
        self.store = store
        try? store.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    }

    /// The tables of migration "v4: batches"; each item's run is an ordinary run that knows
    /// its batch and item.
    static func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE batches (
                id TEXT NOT NULL PRIMARY KEY,
                spec_path TEXT NOT NULL,
                spec_text TEXT NOT NULL,
                schema_files TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                sealed INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX batches_created_at ON batches(created_at);

            CREATE TABLE batch_items (
                batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
                item INTEGER NOT NULL,
                line INTEGER NOT NULL,
                input TEXT,
                status TEXT NOT NULL,
                worker TEXT,
                lease_until INTEGER,
                claims INTEGER NOT NULL DEFAULT 0,
                run_id TEXT,
                output TEXT,
                stage TEXT,
                error TEXT,
                tokens_in INTEGER NOT NULL DEFAULT 0,
                tokens_out INTEGER NOT NULL DEFAULT 0,
                cost_usd REAL,
                finished_at TEXT,
                PRIMARY KEY (batch_id, item)
            );
            CREATE INDEX batch_items_status ON batch_items(batch_id, status, item);

            ALTER TABLE runs ADD COLUMN batch_id TEXT;
            ALTER TABLE runs ADD COLUMN item INTEGER;
            """)
    }

    // MARK: - Submitting

    public func create(_ batch: NewBatch) async throws(StoreError) {
        let arguments: StatementArguments = [
            batch.id, StoreFile.canonical(batch.specPath), batch.specText, batch.schemaFilesJSON, batch.specHash,
            batch.pipelineName, StoreTime.text(batch.createdAt),
        ]
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO batches (id, spec_path, spec_text, schema_files, spec_hash, name, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
        }
    }

    public func enqueue(batch: String, items: [QueuedItem]) async throws(StoreError) {
        let now = StoreTime.text(Date())
        try await write { db in
            let insert = """
                INSERT INTO batch_items (batch_id, item, line, input, status, error, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (batch_id, item) DO NOTHING
                """
            for item in items {
                switch item.input {
                case .success(let value):
                    try db.run(
                        insert, batch, item.index, item.line, item.storedInput(value), ItemStatus.pending.rawValue, String?.none,
                        String?.none)
                case .failure(let invalid):
                    try db.run(insert, batch, item.index, item.line, String?.none, ItemStatus.invalidInput.rawValue, invalid.message, now)
                }
            }
        }
    }

    public func sealBatch(_ batch: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE batches SET sealed = 1 WHERE id = ?", arguments: [batch])
        }
    }

    // MARK: - Working

    public func claim(batch: String, worker: String, limit: Int, lease: Duration) async throws(StoreError) -> [Claim] {
        guard limit > 0 else { return [] }
        let now = Self.milliseconds(Date())
        let until = now + Int(lease.seconds * 1000)
        return try await write { db in
            // Items whose holder's lease lapsed first, then pending ones; in input order.
            let columns = "item, line, input, run_id, claims"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(columns) FROM batch_items
                    WHERE batch_id = ?1 AND status = 'running' AND lease_until < ?2
                    ORDER BY item LIMIT ?3
                    """, arguments: [batch, now, limit])
                + Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(columns) FROM batch_items WHERE batch_id = ? AND status = 'pending'
                        ORDER BY item LIMIT ?
                        """, arguments: [batch, limit])
            let taken = rows.sorted { ($0["item"] as Int) < ($1["item"] as Int) }.prefix(limit)
            return try taken.map { row in
                let index: Int = row["item"]
                try db.run(
                    """
                    UPDATE batch_items SET status = 'running', worker = ?, lease_until = ?, claims = claims + 1
                    WHERE batch_id = ? AND item = ?
                    """, worker, until, batch, index)
                let input: String = row["input"]
                return Claim(
                    batch: batch, index: index, line: row["line"], input: (try? JSONParser.parse(input)) ?? .null,
                    worker: worker, previousRunID: row["run_id"], claims: (row["claims"] as Int) + 1)
            }
        }
    }

    public func renew(batch: String, worker: String, items: [Int], lease: Duration) async throws(StoreError) -> [Int] {
        guard !items.isEmpty else { return [] }
        let until = Self.milliseconds(Date()) + Int(lease.seconds * 1000)
        return try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE batch_items SET lease_until = ?
                WHERE batch_id = ? AND item = ? AND worker = ? AND status = 'running'
                """)
            return try items.filter { index in
                try statement.execute(arguments: [until, batch, index, worker])
                return db.changesCount == 1
            }
        }
    }

    /// Queued, not awaited (`RunStore.queuedItemStart`): the item's first call need not wait
    /// for the store's commit.
    public func startRun(_ run: NewRun, for claim: Claim) async throws(StoreError) -> String {
        let insert: @Sendable (Database, String, Date) throws -> Bool = { db, id, startedAt in
            guard try RunStore.insert(run, id: id, startedAt: startedAt, batchItem: (claim.batch, claim.index), into: db)
            else { return false }
            try db.run(
                "UPDATE batch_items SET run_id = ? WHERE batch_id = ? AND item = ? AND worker = ?", id, claim.batch, claim.index,
                claim.worker)
            return true
        }
        if let id = store.queuedItemStart(run, insert: insert) { return id }
        return try await store.startRun(run, insert: insert)
    }

    public func finish(_ claim: Claim, result: ItemResult, runEnd: RunEnd?) async throws(StoreError) -> Bool {
        let (output, finished) = (result.output?.serialized(), StoreTime.text(Date()))
        let endRun = result.runID.flatMap { id in runEnd.map { RunStore.update(id, ending: $0) } }
        return try await write { [store] db in
            // A run whose queued start found its id taken by another process's run is not
            // recorded: neither its end, nor its id on the item (`RunStore.queuedItemStart`).
            let recorded = result.runID.map(store.isStarted) ?? true
            if recorded { try endRun?(db) }
            try db.run(
                """
                UPDATE batch_items SET status = ?, run_id = ?, output = ?, stage = ?, error = ?, tokens_in = ?,
                    tokens_out = ?, cost_usd = ?, finished_at = ?, worker = NULL, lease_until = NULL
                WHERE batch_id = ? AND item = ? AND worker = ? AND status = 'running'
                """, result.status.rawValue, (recorded ? result.runID : nil) ?? claim.previousRunID, output, result.stage, result.error,
                result.usage.input, result.usage.output, result.costUSD, finished, claim.batch, claim.index, claim.worker)
            return db.changesCount == 1
        }
    }

    public func release(batch: String, worker: String, items: [Int]) async throws(StoreError) {
        guard !items.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE batch_items SET status = 'pending', worker = NULL, lease_until = NULL
                WHERE batch_id = ? AND item = ? AND worker = ? AND status = 'running'
                """)
            for index in items { try statement.execute(arguments: [batch, index, worker]) }
        }
    }

    /// Gives back every item still marked running: called by the one process that holds the
    /// embedded batch (`pipe batch --resume`), so their holder is gone (killed).
    public func releaseAbandoned(batch: String) async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE batch_items SET status = 'pending', worker = NULL, lease_until = NULL
                    WHERE batch_id = ? AND status = 'running'
                    """, arguments: [batch])
            return db.changesCount
        }
    }

    // MARK: - Reading

    public func batch(_ reference: String) async throws(StoreError) -> BatchInfo? {
        let found: BatchInfo? = try await read { db in
            if reference == "last" {
                return try Row.fetchOne(db, sql: "SELECT * FROM batches ORDER BY created_at DESC, id DESC LIMIT 1").map(Self.info)
            }
            if let exact = try Row.fetchOne(db, sql: "SELECT * FROM batches WHERE id = ?", arguments: [reference]) {
                return Self.info(exact)
            }
            let matches = try Row.fetchAll(
                db, sql: "SELECT * FROM batches WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 2",
                arguments: [reference])
            return matches.count == 1 ? Self.info(matches[0]) : nil
        }
        guard var found else { return nil }
        found.counts = try await counts(batch: found.id)
        return found
    }

    public func batches(limit: Int) async throws(StoreError) -> [BatchInfo] {
        var found = try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM batches ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [max(0, limit)])
                .map(Self.info)
        }
        for index in found.indices { found[index].counts = try await counts(batch: found[index].id) }
        return found
    }

    public func counts(batch: String) async throws(StoreError) -> BatchCounts {
        try await read { db in
            var counts = BatchCounts()
            let rows = try Row.fetchAll(
                db, sql: "SELECT status, COUNT(*) AS n FROM batch_items WHERE batch_id = ? GROUP BY status",
                arguments: [batch])
            for row in rows {
                let count: Int = row["n"]
                switch ItemStatus(rawValue: row["status"]) {
                case .pending: counts.pending = count
                case .running: counts.running = count
                case .succeeded: counts.succeeded = count
                case .failed: counts.failed = count
                case .invalidInput: counts.invalidInput = count
                case nil: break
                }
            }
            return counts
        }
    }

    public func results(batch: String, after: Int?, limit: Int) async throws(StoreError) -> [ItemResult] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM batch_items
                    WHERE batch_id = ? AND item > ? AND status IN ('succeeded', 'failed', 'invalid_input')
                    ORDER BY item LIMIT ?
                    """, arguments: [batch, after ?? -1, max(0, limit)]
            ).map { row in
                let output: String? = row["output"]
                return ItemResult(
                    index: row["item"], status: ItemStatus(rawValue: row["status"]) ?? .failed,
                    output: output.flatMap { try? JSONParser.parse($0) }, runID: row["run_id"], stage: row["stage"],
                    error: row["error"], usage: TokenUsage(input: row["tokens_in"], output: row["tokens_out"]),
                    costUSD: row["cost_usd"])
            }
        }
    }

    /// A batch's row, its counts still to be read.
    private static func info(_ row: Row) -> BatchInfo {
        BatchInfo(
            submitted: NewBatch(
                id: row["id"], specPath: row["spec_path"], specText: row["spec_text"],
                schemaFiles: NewBatch.schemaFiles(fromJSON: row["schema_files"]), specHash: row["spec_hash"],
                pipelineName: row["name"], createdAt: StoreTime.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0)),
            sealed: row["sealed"], counts: BatchCounts())
    }

    // MARK: - Access

    static func milliseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Suspends, without blocking a thread of Swift concurrency, while the store writes; not
    /// abandoned when the calling task is cancelled (Ctrl-C releases items so). Committed
    /// with the store's other writes queued meanwhile (`RunStore.enqueue`).
    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await store.write(updates)
    }

    private func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            store.database.asyncRead { [path = store.path] database in
                continuation.resume(
                    returning: Result { try value(database.get()) }.mapError { .database(path: path, reason: RunStore.reason($0)) })
            }
        }
        return try result.get()
    }
}

/// Batch ids: `b` and a run id's shape (`b20261202-151502-3f9a`), so they sort by start and
/// are never taken for a run's.
public enum BatchID {
    public static func make(at date: Date = Date()) -> String {
        "b" + RunID.make(at: date)
    }
}
