import Foundation

/// pipe's tables on PostgreSQL, created and upgraded by pipe: the run store's (the same
/// tables and columns as the SQLite store's, `Store/StoreSchema.swift`) and the batch
/// queue's. `pipe_schema` holds the versions applied. A migration is never edited once
/// released: a change is a new one, appended.
enum PostgresSchema {
    /// Each migration's statements; version N is the Nth.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE runs (
                id TEXT NOT NULL PRIMARY KEY,
                spec_path TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                duration_ms BIGINT,
                input TEXT NOT NULL,
                output TEXT,
                tokens_in BIGINT NOT NULL DEFAULT 0,
                tokens_out BIGINT NOT NULL DEFAULT 0,
                cost_usd DOUBLE PRECISION,
                error TEXT,
                trace_id TEXT NOT NULL,
                resumed_from TEXT,
                pid INTEGER,
                host TEXT,
                batch_id TEXT,
                item INTEGER
            )
            """,
            "CREATE INDEX runs_started_at ON runs (started_at)",
            "CREATE INDEX runs_batch ON runs (batch_id, item)",
            """
            CREATE TABLE calls (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                provider TEXT NOT NULL,
                model_name TEXT NOT NULL,
                model TEXT NOT NULL,
                request TEXT NOT NULL,
                reply TEXT,
                status TEXT NOT NULL,
                problems TEXT NOT NULL,
                tokens_in BIGINT NOT NULL,
                tokens_out BIGINT NOT NULL,
                cost_usd DOUBLE PRECISION,
                latency_ms BIGINT NOT NULL,
                cache_key TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX calls_run_id ON calls (run_id)",
            "CREATE INDEX calls_cache_key ON calls (cache_key)",
            """
            CREATE TABLE stages (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                status TEXT NOT NULL,
                provider TEXT NOT NULL,
                model_name TEXT NOT NULL,
                model TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                tokens_in BIGINT NOT NULL,
                tokens_out BIGINT NOT NULL,
                cost_usd DOUBLE PRECISION,
                latency_ms BIGINT NOT NULL,
                output TEXT,
                fingerprint TEXT,
                reused BOOLEAN NOT NULL,
                error TEXT,
                finished_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX stages_run_id ON stages (run_id)",
            """
            CREATE TABLE approvals (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                decision TEXT NOT NULL,
                reason TEXT,
                decided_at TEXT NOT NULL,
                PRIMARY KEY (run_id, stage)
            )
            """,
            """
            CREATE TABLE batches (
                id TEXT NOT NULL PRIMARY KEY,
                spec_path TEXT NOT NULL,
                spec_text TEXT NOT NULL,
                schema_files TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                sealed BOOLEAN NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX batches_created_at ON batches (created_at)",
            // `lease_until` is the database's clock (`now()`), so workers' clocks need not agree.
            """
            CREATE TABLE items (
                batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                item INTEGER NOT NULL,
                line INTEGER NOT NULL,
                input TEXT,
                status TEXT NOT NULL,
                worker TEXT,
                lease_until TIMESTAMPTZ,
                run_id TEXT,
                claims INTEGER NOT NULL DEFAULT 0,
                output TEXT,
                stage TEXT,
                error TEXT,
                tokens_in BIGINT NOT NULL DEFAULT 0,
                tokens_out BIGINT NOT NULL DEFAULT 0,
                cost_usd DOUBLE PRECISION,
                finished_at TEXT,
                PRIMARY KEY (batch_id, item)
            )
            """,
            // What a claim scans: the items not ended yet, in input order.
            "CREATE INDEX items_open ON items (batch_id, item) WHERE status IN ('pending', 'running')",
        ],
        // The tool calls of stages with `tools:` (StoreSchema's "v5: tool calls").
        [
            """
            CREATE TABLE tool_calls (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                turn INTEGER NOT NULL,
                tool TEXT NOT NULL,
                arguments TEXT NOT NULL,
                result_chars BIGINT NOT NULL,
                is_error BOOLEAN NOT NULL,
                error TEXT,
                latency_ms BIGINT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX tool_calls_run_id ON tool_calls (run_id, stage)",
        ],
        // When each tool call started, for the report's timeline (StoreSchema's "v8: tool call start times").
        ["ALTER TABLE tool_calls ADD COLUMN started_at TEXT"],
        // Provider batches shared by the workers (`pipe batch --queue URL --provider-batch`):
        // the batch's choice, which its workers follow (NULL: real time; else the
        // --batch-fallback); the provider batches, recorded before they are polled; the
        // requests every worker hands to the lead of a model's batches, and their results.
        [
            "ALTER TABLE batches ADD COLUMN provider_batch TEXT",
            """
            CREATE TABLE provider_batches (
                id TEXT NOT NULL PRIMARY KEY,
                batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                custom_ids TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX provider_batches_batch ON provider_batches (batch_id, state)",
            """
            CREATE TABLE provider_batch_requests (
                batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                model TEXT NOT NULL,
                custom_id TEXT NOT NULL,
                body TEXT NOT NULL,
                provider_batch_id TEXT,
                result TEXT,
                seq BIGINT GENERATED ALWAYS AS IDENTITY,
                PRIMARY KEY (batch_id, model, custom_id)
            )
            """,
            // What the lead collects: the requests not submitted yet, oldest first.
            """
            CREATE INDEX provider_batch_requests_pending ON provider_batch_requests (batch_id, model, seq)
            WHERE provider_batch_id IS NULL AND result IS NULL
            """,
        ],
        // Fewer index entries an item (BENCHMARKS.md, "`pipe batch` on PostgreSQL: fewer index
        // entries an item"). Half of each page of `runs` and `items` is left free, so that a
        // run's end and an item's claim, run and renewals are written beside the row (HOT
        // updates: no new index entries). The open items' index names them by `finished_at`
        // (NULL until an item ends, set by every end), no longer by `status`, which a claim
        // changes: a claim then needs no index entries either. The calls', stages' and tool
        // calls' `run_id` are no longer foreign keys: each record's check locked its run's row
        // (a query and a WAL record a record); pipe writes a run's records only after its row,
        // and never deletes a run.
        [
            "ALTER TABLE runs SET (fillfactor = 50)",
            "ALTER TABLE items SET (fillfactor = 50)",
            "DROP INDEX items_open",
            "CREATE INDEX items_unfinished ON items (batch_id, item) WHERE finished_at IS NULL",
            "ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_run_id_fkey",
            "ALTER TABLE stages DROP CONSTRAINT IF EXISTS stages_run_id_fkey",
            "ALTER TABLE tool_calls DROP CONSTRAINT IF EXISTS tool_calls_run_id_fkey",
        ],
        // The batch item a provider batch request belongs to, as a column of its own: the
        // lead's backlog (the items in flight that wait on no request) finds an item's
        // unanswered requests through an index, where it matched the head of each custom_id
        // (`i{item}-...`) against every item (seconds a look at 10,000 items). Requests handed
        // in before have their item read from their custom_id once, here.
        [
            "ALTER TABLE provider_batch_requests ADD COLUMN item INTEGER",
            """
            UPDATE provider_batch_requests SET item = substring(custom_id FROM '^i([0-9]+)-')::integer
            WHERE custom_id ~ '^i[0-9]{1,9}-'
            """,
            """
            CREATE INDEX provider_batch_requests_unanswered ON provider_batch_requests (batch_id, item)
            WHERE result IS NULL
            """,
        ],
        // One index entry fewer a run (BENCHMARKS.md, "`pipe batch` on PostgreSQL: the run's
        // start queued"): nothing reads `runs` by batch and item (a batch's runs are found
        // through `items.run_id`).
        ["DROP INDEX IF EXISTS runs_batch"],
    ]

    static var version: Int { migrations.count }

    /// Any number for the advisory lock that makes one session at a time migrate.
    private static let lockKey = 0x7069_7065  // "pipe"

    /// Brings the database to `version`, in one transaction. Sessions migrating at once take
    /// turns on an advisory lock, so the second finds the work done.
    static func migrate(_ connection: PostgresConnection) throws(PostgresError) {
        try connection.transaction { () throws(PostgresError) in
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [lockKey])
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS pipe_schema (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)")
            let current = try connection.query("SELECT max(version) AS version FROM pipe_schema").first?.int("version") ?? 0
            guard current <= version else {
                throw PostgresError(
                    "the database's tables are version \(current), newer than this pipe knows (\(version)): upgrade pipe")
            }
            for number in current..<version {
                for statement in migrations[number] { try connection.execute(statement) }
                try connection.execute(
                    "INSERT INTO pipe_schema (version, applied_at) VALUES ($1, $2)", [number + 1, StoreTime.text(Date())])
            }
        }
    }
}
