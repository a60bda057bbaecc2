import Foundation
import GRDB

/// Reading runs back, for `pipe logs` and `--resume`.
extension RunStore {
    /// `last`: the newest run (of `specPath`, if given). Otherwise an exact id, or a prefix
    /// of exactly one id. Nil when nothing matches.
    public func resolveRunID(_ text: String, specPath: String? = nil) throws(StoreError) -> String? {
        let spec = specPath.map(StoreFile.canonical)
        if text == "last" {
            return try read { db in
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT id FROM runs WHERE ?1 IS NULL OR spec_path = ?1
                        ORDER BY started_at DESC, rowid DESC LIMIT 1
                        """, arguments: [spec])
            }
        }
        let matches = try read { db in
            if try String.fetchOne(db, sql: "SELECT id FROM runs WHERE id = ?", arguments: [text]) != nil {
                return [text]
            }
            return try String.fetchAll(
                db, sql: "SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 20",
                arguments: [text])
        }
        guard matches.count <= 1 else { throw .ambiguousRunID(text, candidates: matches) }
        return matches.first
    }

    /// The newest runs first (of `specPath`, if given).
    public func runs(limit: Int, specPath: String? = nil) throws(StoreError) -> [RunRow] {
        let spec = specPath.map(StoreFile.canonical)
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.runColumns) FROM runs WHERE ?1 IS NULL OR spec_path = ?1
                    ORDER BY started_at DESC, rowid DESC LIMIT ?2
                    """, arguments: [spec, max(0, limit)]
            ).map(runRow)
        }
    }

    /// A run with its stages and calls; nil for an unknown id.
    public func run(_ id: String) throws(StoreError) -> RunDetail? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs WHERE id = ?", arguments: [id])
            else {
                return nil
            }
            let stages = try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE run_id = ? ORDER BY id", arguments: [id])
            let calls = try Row.fetchAll(db, sql: "SELECT * FROM calls WHERE run_id = ? ORDER BY id", arguments: [id])
            return RunDetail(
                row: runRow(row), specHash: row["spec_hash"], traceID: row["trace_id"],
                input: Self.json(row["input"]) ?? .null, output: Self.json(row["output"]),
                stages: stages.map(Self.stageRow), calls: calls.map(Self.callRow))
        }
    }

    // MARK: - Rows

    /// A run's columns, and the tokens and cost of its calls: what an unfinished run (one
    /// still going, or killed) has spent so far.
    private static let runColumns = """
        runs.*,
        (SELECT SUM(tokens_in) FROM calls WHERE run_id = runs.id) AS calls_tokens_in,
        (SELECT SUM(tokens_out) FROM calls WHERE run_id = runs.id) AS calls_tokens_out,
        (SELECT SUM(cost_usd) FROM calls WHERE run_id = runs.id) AS calls_cost_usd
        """

    private func runRow(_ row: Row) -> RunRow {
        let id: String = row["id"]
        let status = RunStatus(rawValue: row["status"]) ?? .failed
        let milliseconds: Int? = row["duration_ms"]
        let finished = milliseconds != nil
        let usage = finished
            ? TokenUsage(input: row["tokens_in"], output: row["tokens_out"])
            : TokenUsage(input: row["calls_tokens_in"] ?? 0, output: row["calls_tokens_out"] ?? 0)
        return RunRow(
            id: id, specPath: row["spec_path"], pipelineName: row["name"], status: status,
            startedAt: StoreTime.date(row["started_at"]) ?? Date(timeIntervalSince1970: 0),
            duration: milliseconds.map(StoreTime.duration(milliseconds:)),
            usage: usage, costUSD: finished ? row["cost_usd"] : row["calls_cost_usd"],
            error: row["error"], resumedFrom: row["resumed_from"],
            holder: status == .running ? leases.holder(of: id) : nil)
    }

    private static func stageRow(_ row: Row) -> StageRow {
        StageRow(
            stage: row["stage"], status: StageReport.Status(rawValue: row["status"]) ?? .failed,
            provider: row["provider"], modelName: row["model_name"], model: row["model"], attempts: row["attempts"],
            usage: TokenUsage(input: row["tokens_in"], output: row["tokens_out"]), costUSD: row["cost_usd"],
            latency: StoreTime.duration(milliseconds: row["latency_ms"]), output: json(row["output"]),
            fingerprint: row["fingerprint"], reused: row["reused"], error: row["error"])
    }

    private static func callRow(_ row: Row) -> CallRow {
        let problems = json(row["problems"])?.arrayValue?.compactMap(\.stringValue) ?? []
        return CallRow(
            stage: row["stage"], attempt: row["attempt"], provider: row["provider"], modelName: row["model_name"],
            model: row["model"], request: json(row["request"]) ?? .null, reply: row["reply"],
            status: CallRecord.Status(rawValue: row["status"]) ?? .failed, problems: problems,
            usage: TokenUsage(input: row["tokens_in"], output: row["tokens_out"]), costUSD: row["cost_usd"],
            latency: StoreTime.duration(milliseconds: row["latency_ms"]),
            cacheKey: row["cache_key"], createdAt: StoreTime.date(row["created_at"]) ?? Date(timeIntervalSince1970: 0))
    }

    private static func json(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONParser.parse($0) }
    }
}
