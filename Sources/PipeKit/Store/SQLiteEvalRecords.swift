import Foundation
import GRDB

/// Evals in the run store's SQLite file (migration "v6: evals"), beside the batch whose
/// items ran the pipeline. SQL that PostgreSQL accepts too.
public struct SQLiteEvalRecords: EvalRecords {
    public let store: RunStore

    public init(store: RunStore) {
        self.store = store
    }

    static func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE evals (
                id TEXT NOT NULL PRIMARY KEY,
                spec_path TEXT NOT NULL,
                spec_hash TEXT NOT NULL,
                tests_path TEXT NOT NULL,
                dataset_path TEXT NOT NULL,
                dataset_hash TEXT NOT NULL,
                batch_id TEXT NOT NULL,
                created_at TEXT NOT NULL,
                finished_at TEXT,
                summary TEXT
            );
            CREATE INDEX evals_created_at ON evals(created_at);

            CREATE TABLE eval_results (
                eval_id TEXT NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
                item INTEGER NOT NULL,
                line INTEGER NOT NULL,
                evaluator TEXT NOT NULL,
                pass INTEGER NOT NULL,
                score REAL,
                reason TEXT,
                run_id TEXT,
                PRIMARY KEY (eval_id, item, evaluator)
            );
            """)
    }

    public func create(_ eval: EvalRecord) async throws(StoreError) {
        let arguments: StatementArguments = [
            eval.id, StoreFile.canonical(eval.specPath), eval.specHash, StoreFile.canonical(eval.testsPath),
            StoreFile.canonical(eval.datasetPath), eval.datasetHash, eval.batchID, StoreTime.text(eval.createdAt),
        ]
        try await store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO evals (id, spec_path, spec_hash, tests_path, dataset_path, dataset_hash, batch_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
        }
    }

    public func record(_ results: [EvalRecord.Result], eval: String) async throws(StoreError) {
        try await store.write { db in
            for result in results {
                try db.execute(
                    sql: """
                        INSERT INTO eval_results (eval_id, item, line, evaluator, pass, score, reason, run_id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (eval_id, item, evaluator) DO UPDATE SET
                            line = excluded.line, pass = excluded.pass, score = excluded.score,
                            reason = excluded.reason, run_id = excluded.run_id
                        """,
                    arguments: [eval, result.item, result.line, result.evaluator, result.pass ? 1 : 0, result.score, result.reason, result.runID])
            }
        }
    }

    public func finish(_ eval: String, summary: JSONValue) async throws(StoreError) {
        let arguments: StatementArguments = [StoreTime.text(Date()), summary.serialized(), eval]
        try await store.write { db in
            try db.execute(sql: "UPDATE evals SET finished_at = ?, summary = ? WHERE id = ?", arguments: arguments)
        }
    }

    public func eval(_ reference: String) async throws(StoreError) -> EvalRecord? {
        try await read { db in
            if reference == "last" {
                return try Row.fetchOne(db, sql: "SELECT * FROM evals ORDER BY created_at DESC, id DESC LIMIT 1").map(Self.record)
            }
            if let exact = try Row.fetchOne(db, sql: "SELECT * FROM evals WHERE id = ?", arguments: [reference]) {
                return Self.record(exact)
            }
            let matches = try Row.fetchAll(
                db, sql: "SELECT * FROM evals WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 2", arguments: [reference])
            return matches.count == 1 ? Self.record(matches[0]) : nil
        }
    }

    public func results(of eval: String) async throws(StoreError) -> [EvalRecord.Result] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM eval_results WHERE eval_id = ? ORDER BY item, evaluator", arguments: [eval]).map { row in
                let pass: Int = row["pass"]
                return EvalRecord.Result(
                    item: row["item"], line: row["line"], evaluator: row["evaluator"], pass: pass != 0, score: row["score"],
                    reason: row["reason"], runID: row["run_id"])
            }
        }
    }

    public func evals(limit: Int) async throws(StoreError) -> [EvalRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM evals ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [max(0, limit)])
                .map(Self.record)
        }
    }

    static func record(_ row: Row) -> EvalRecord {
        let summary: String? = row["summary"]
        let finished: String? = row["finished_at"]
        return EvalRecord(
            id: row["id"], specPath: row["spec_path"], specHash: row["spec_hash"], testsPath: row["tests_path"],
            datasetPath: row["dataset_path"], datasetHash: row["dataset_hash"], batchID: row["batch_id"],
            createdAt: StoreTime.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            finishedAt: finished.flatMap(StoreTime.date), summary: summary.flatMap { try? JSONParser.parse($0) })
    }

    private func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await store.read(value)
    }
}
