import GRDB

/// The store's tables, created and upgraded by GRDB's migrator. A migration is never edited
/// once released: a change is a new migration.
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
        migrator.registerMigration("v3: batches") { db in try SQLiteWorkQueue.createTables(db) }
        return migrator
    }()

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
