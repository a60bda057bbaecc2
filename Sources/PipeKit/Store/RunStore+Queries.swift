import Foundation
import GRDB

/// The catalog's reads: runs read back, for `pipe logs`, `--resume` and `pipe approve`.
extension RunStore {
    public func resolveRunID(_ reference: String, specPath: String? = nil) async throws(StoreError) -> String? {
        if reference == "last" {
            let (filter, arguments) = Self.specFilter(specPath)
            return try await read { db in
                try String.fetchOne(
                    db, sql: "SELECT id FROM runs \(filter) ORDER BY started_at DESC, seq DESC LIMIT 1", arguments: arguments)
            }
        }
        let matches = try await read { db in
            if try String.fetchOne(db, sql: "SELECT id FROM runs WHERE id = ?", arguments: [reference]) != nil {
                return [reference]
            }
            return try String.fetchAll(
                db, sql: "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 20",
                arguments: [reference.unicodeScalars.count, reference])
        }
        guard matches.count <= 1 else { throw .ambiguousRunID(reference, candidates: matches) }
        return matches.first
    }

    public func runs(limit: Int, specPath: String? = nil) async throws(StoreError) -> [RunRow] {
        let (filter, arguments) = Self.specFilter(specPath)
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Self.runColumns) FROM runs \(filter) ORDER BY started_at DESC, seq DESC LIMIT ?",
                arguments: arguments + [max(0, limit)]
            ).map(self.runRow)
        }
    }

    public func runs(inBatch batch: String) async throws(StoreError) -> [RunRow] {
        try await read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT \(Self.runColumns) FROM runs
                    WHERE id IN (SELECT run_id FROM batch_items WHERE batch_id = ?) ORDER BY started_at, seq
                    """,
                arguments: [batch]
            ).map(self.runRow)
        }
    }

    public func run(_ id: String) async throws(StoreError) -> RunDetail? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs WHERE id = ?", arguments: [id])
            else {
                return nil
            }
            let stages = try Row.fetchAll(db, sql: "SELECT * FROM stages WHERE run_id = ? ORDER BY id", arguments: [id])
            let calls = try Row.fetchAll(db, sql: "SELECT * FROM calls WHERE run_id = ? ORDER BY id", arguments: [id])
            let toolCalls = try Row.fetchAll(db, sql: "SELECT * FROM tool_calls WHERE run_id = ? ORDER BY id", arguments: [id])
            return RunDetail(
                row: self.runRow(row), specHash: row["spec_hash"], traceID: row["trace_id"],
                input: Self.json(row["input"]) ?? .null, output: Self.json(row["output"]),
                stages: stages.map(Self.stageRow), calls: calls.map(Self.callRow),
                toolCalls: toolCalls.map { row in
                    ToolCallRecord(
                        stage: row["stage"], attempt: row["attempt"], turn: row["turn"], tool: row["tool"],
                        arguments: Self.json(row["arguments"]) ?? .null, resultCharacters: row["result_chars"],
                        isError: row["is_error"], error: row["error"], duration: StoreTime.duration(milliseconds: row["latency_ms"]),
                        startedAt: (row["started_at"] as String?).flatMap(StoreTime.date))
                })
        }
    }

    /// `WHERE spec_path = ?` for the runs of one spec, nothing for all runs.
    private static func specFilter(_ specPath: String?) -> (String, StatementArguments) {
        guard let specPath else { return ("", []) }
        return ("WHERE spec_path = ?", [StoreFile.canonical(specPath)])
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
            holder: status == .running ? holder(of: id, batch: row["batch_id"]) : nil)
    }

    /// Who holds a running run: its own lease, else (a batch item's run, which has none of its
    /// own) the batch's.
    private func holder(of id: String, batch: String?) -> RunHolder? {
        leases.holder(of: id) ?? batch.flatMap(leases.holder(of:))
    }

    private static func stageRow(_ row: Row) -> StageRow {
        StageRow(
            stage: row["stage"], status: StageReport.Status(rawValue: row["status"]) ?? .failed,
            provider: row["provider"], modelName: row["model_name"], model: row["model"], attempts: row["attempts"],
            usage: TokenUsage(input: row["tokens_in"], output: row["tokens_out"]), costUSD: row["cost_usd"],
            latency: StoreTime.duration(milliseconds: row["latency_ms"]), output: json(row["output"]),
            fingerprint: row["fingerprint"], reused: row["reused"], error: row["error"],
            finishedAt: StoreTime.date(row["finished_at"]))
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
