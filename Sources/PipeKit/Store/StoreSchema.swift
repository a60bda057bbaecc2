import CSQLiteOptions
import GRDB

/// The store's tables, created and upgraded by GRDB's migrator. A migration is never edited
/// once released: a change is a new migration.
///
/// The tables and columns are the ones a store on PostgreSQL creates (there `seq` and `id` are
/// identity columns, times `TEXT` as here), and every statement that reads or writes them is
/// SQL both engines accept: `INSERT ... ON CONFLICT`, no `rowid`, explicit ordering columns.
enum StoreSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, calls, stages") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT NOT NULL PRIMARY KEY,
                    spec_path TEXT NOT NULL,
                    spec_hash TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    duration_ms INTEGER,
                    input TEXT NOT NULL,
                    output TEXT,
                    tokens_in INTEGER NOT NULL DEFAULT 0,
                    tokens_out INTEGER NOT NULL DEFAULT 0,
                    cost_usd REAL,
                    error TEXT,
                    trace_id TEXT NOT NULL,
                    resumed_from TEXT,
                    pid INTEGER,
                    host TEXT
                );
                CREATE INDEX runs_started_at ON runs(started_at);

                CREATE TABLE calls (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    model_name TEXT NOT NULL,
                    model TEXT NOT NULL,
                    request TEXT NOT NULL,
                    reply TEXT,
                    status TEXT NOT NULL,
                    problems TEXT NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    cost_usd REAL,
                    latency_ms INTEGER NOT NULL,
                    cache_key TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX calls_run_id ON calls(run_id);
                CREATE INDEX calls_cache_key ON calls(cache_key);

                CREATE TABLE stages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    status TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    model_name TEXT NOT NULL,
                    model TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    cost_usd REAL,
                    latency_ms INTEGER NOT NULL,
                    output TEXT,
                    fingerprint TEXT NOT NULL,
                    reused INTEGER NOT NULL,
                    error TEXT,
                    finished_at TEXT NOT NULL
                );
                CREATE INDEX stages_run_id ON stages(run_id);
                """)
        }
        migrator.registerMigration("v2: approvals") { db in
            try db.execute(sql: """
                CREATE TABLE approvals (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    decision TEXT NOT NULL,
                    reason TEXT,
                    decided_at TEXT NOT NULL,
                    PRIMARY KEY (run_id, stage)
                );
                """)
        }
        // Runs get an explicit order (`seq`, which `rowid` gave before) and lose `pid` and `host`
        // (who holds a run is its lease's business); a stage that called nothing of its own has
        // no fingerprint instead of a word standing for its status.
        migrator.registerMigration("v3: portable ids and statuses") { db in
            try db.execute(sql: """
                CREATE TABLE runs_v3 (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    spec_path TEXT NOT NULL,
                    spec_hash TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    duration_ms INTEGER,
                    input TEXT NOT NULL,
                    output TEXT,
                    tokens_in INTEGER NOT NULL DEFAULT 0,
                    tokens_out INTEGER NOT NULL DEFAULT 0,
                    cost_usd REAL,
                    error TEXT,
                    trace_id TEXT NOT NULL,
                    resumed_from TEXT
                );
                INSERT INTO runs_v3 (seq, id, spec_path, spec_hash, name, status, started_at, finished_at, duration_ms,
                        input, output, tokens_in, tokens_out, cost_usd, error, trace_id, resumed_from)
                    SELECT rowid, id, spec_path, spec_hash, name, status, started_at, finished_at, duration_ms,
                        input, output, tokens_in, tokens_out, cost_usd, error, trace_id, resumed_from
                    FROM runs ORDER BY rowid;
                DROP TABLE runs;
                ALTER TABLE runs_v3 RENAME TO runs;
                CREATE INDEX runs_started_at ON runs(started_at, seq);

                CREATE TABLE stages_v3 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    status TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    model_name TEXT NOT NULL,
                    model TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    cost_usd REAL,
                    latency_ms INTEGER NOT NULL,
                    output TEXT,
                    fingerprint TEXT,
                    reused INTEGER NOT NULL,
                    error TEXT,
                    finished_at TEXT NOT NULL
                );
                INSERT INTO stages_v3 (id, run_id, stage, status, provider, model_name, model, attempts, tokens_in,
                        tokens_out, cost_usd, latency_ms, output, fingerprint, reused, error, finished_at)
                    SELECT id, run_id, stage, status, provider, model_name, model, attempts, tokens_in,
                        tokens_out, cost_usd, latency_ms, output,
                        CASE WHEN fingerprint IN ('skipped', 'approval', 'for_each') THEN NULL ELSE fingerprint END,
                        reused, error, finished_at
                    FROM stages ORDER BY id;
                DROP TABLE stages;
                ALTER TABLE stages_v3 RENAME TO stages;
                CREATE INDEX stages_run_id ON stages(run_id, stage);
                """)
        }
        migrator.registerMigration("v4: batches") { db in try SQLiteWorkQueue.createTables(db) }
        // The tool calls of stages with `tools:`, one row each (PostgresSchema's version 2).
        migrator.registerMigration("v5: tool calls") { db in
            try db.execute(sql: """
                CREATE TABLE tool_calls (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    turn INTEGER NOT NULL,
                    tool TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    result_chars INTEGER NOT NULL,
                    is_error INTEGER NOT NULL,
                    error TEXT,
                    latency_ms INTEGER NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX tool_calls_run_id ON tool_calls(run_id, stage);
                """)
        }
        // Evals (`pipe eval`): one row an eval, one a scored item and evaluator (SQLite only).
        migrator.registerMigration("v6: evals") { db in try SQLiteEvalRecords.createTables(db) }
        // Provider batches in flight (`pipe batch --provider-batch`), for --resume and cancel.
        migrator.registerMigration("v7: provider batches") { db in try SQLiteWorkQueue.createProviderBatchTable(db) }
        // When each tool call started, for the report's timeline (PostgresSchema's version 3).
        migrator.registerMigration("v8: tool call start times") { db in
            try db.execute(sql: "ALTER TABLE tool_calls ADD COLUMN started_at TEXT")
        }
        return migrator
    }()

    /// Whether the file open on `connection` has every migration applied already (checked in C:
    /// one small query, where the migrator's own check cost a store's opening 0.76M instructions,
    /// most of them the Swift runtime's first lookups for GRDB's generic fetches, on the thread
    /// that `pipe run`'s start waits for). False for a new, older or newer file, which the
    /// migrator then looks at as before.
    static func isCurrent(_ connection: OpaquePointer?) -> Bool {
        guard let last = migrations.last else { return false }
        return pipe_sqlite_migrated(connection, Int32(migrations.count), last) == 1
    }

    static let migrations = migrator.migrations

    /// Brings the file to the current schema. Two processes opening a new store at once may
    /// both find it empty (the migrator reads what is applied before its transaction); the
    /// one that loses fails on the tables the other created, and its next try finds them.
    static func migrate(_ writer: some DatabaseWriter) throws {
        var tries = 0
        while true {
            do {
                try migrator.migrate(writer)
                return
            } catch {
                tries += 1
                if tries >= 3 { throw error }
            }
        }
    }
}
