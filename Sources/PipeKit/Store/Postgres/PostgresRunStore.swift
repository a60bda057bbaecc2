import Foundation

/// The run store on PostgreSQL (`RunCatalog` and `RunApprovals`), in the same tables and
/// columns as the SQLite store's: the runs of batch items worked from a `--queue`, read
/// back by `pipe logs --queue`. Runs are held by this process only (a set in memory): across
/// workers, an item's lease in `items` says who works on it, so a run needs no lock of its own.
/// A `running` run shows its recorded process as holder while its item is running under a
/// live lease and names it; otherwise (its worker was killed and the lease lapsed, or another
/// worker took the item over) nothing works on it any more and it shows as `interrupted`.
public final class PostgresRunStore: RunStorage {
    public let client: PostgresClient
    private let held = Locked<Set<String>>([])

    public init(client: PostgresClient) {
        self.client = client
    }

    public var location: String { client.location }

    public func startRun(_ run: NewRun) async throws(StoreError) -> String {
        let id = try await PostgresJournal.start(run, client: client).runID
        held.withLock { _ = $0.insert(id) }
        return id
    }

    public func finishRun(_ id: String, _ end: RunEnd) async throws(StoreError) {
        defer { held.withLock { _ = $0.remove(id) } }
        try await PostgresJournal(client: client, runID: id, reusingFrom: nil).finish(end)
    }

    public func journal(runID: String, reusingFrom: String?) -> any DurableJournal {
        PostgresJournal(client: client, runID: runID, reusingFrom: reusingFrom)
    }

    public func hold(_ id: String) async throws(StoreError) {
        let taken = held.withLock { $0.insert(id).inserted }
        if !taken { throw .runInUse(runID: id, holder: RunHolder.current) }
    }

    public func release(_ id: String) async {
        held.withLock { _ = $0.remove(id) }
    }

    // MARK: - Reading

    public func resolveRunID(_ reference: String, specPath: String?) async throws(StoreError) -> String? {
        if reference == "last" {
            let rows = try await client.withConnection { connection throws(PostgresError) in
                specPath == nil
                    ? try connection.query("SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1")
                    : try connection.query(
                        "SELECT id FROM runs WHERE spec_path = $1 ORDER BY started_at DESC, id DESC LIMIT 1",
                        [specPath.map { URL(fileURLWithPath: $0).path } ?? ""])
            }
            return rows.first?["id"]
        }
        let matches = try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                "SELECT id FROM runs WHERE id = $1 OR starts_with(id, $1) ORDER BY id = $1 DESC, id LIMIT 20", [reference])
        }.compactMap { $0["id"] }
        if matches.first == reference { return reference }
        guard matches.count <= 1 else { throw .ambiguousRunID(reference, candidates: matches) }
        return matches.first
    }

    public func runs(inBatch batch: String) async throws(StoreError) -> [RunRow] {
        let rows = try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                Self.runQuery("WHERE runs.id IN (SELECT run_id FROM items WHERE batch_id = $1)") + " ORDER BY started_at, id", [batch])
        }
        return rows.map(Self.runRow)
    }

    public func runs(limit: Int, specPath: String?) async throws(StoreError) -> [RunRow] {
        let rows = try await client.withConnection { connection throws(PostgresError) in
            specPath == nil
                ? try connection.query(Self.runQuery("") + " ORDER BY started_at DESC, id DESC LIMIT $1", [max(0, limit)])
                : try connection.query(
                    Self.runQuery("WHERE spec_path = $2") + " ORDER BY started_at DESC, id DESC LIMIT $1",
                    [max(0, limit), specPath.map { URL(fileURLWithPath: $0).path } ?? ""])
        }
        return rows.map(Self.runRow)
    }

    public func run(_ id: String) async throws(StoreError) -> RunDetail? {
        let (runs, stages, calls, toolCalls) = try await client.withConnection { connection throws(PostgresError) in
            (
                try connection.query(Self.runQuery("WHERE id = $1"), [id]),
                try connection.query("SELECT * FROM stages WHERE run_id = $1 ORDER BY id", [id]),
                try connection.query("SELECT * FROM calls WHERE run_id = $1 ORDER BY id", [id]),
                try connection.query("SELECT * FROM tool_calls WHERE run_id = $1 ORDER BY id", [id])
            )
        }
        guard let row = runs.first else { return nil }
        return RunDetail(
            row: Self.runRow(row), specHash: row["spec_hash"] ?? "", traceID: row["trace_id"] ?? "",
            input: Self.json(row["input"]) ?? .null, output: Self.json(row["output"]),
            stages: stages.map(Self.stageRow), calls: calls.map(Self.callRow),
            toolCalls: toolCalls.map { row in
                ToolCallRecord(
                    stage: row["stage"] ?? "", attempt: row.int("attempt") ?? 0, turn: row.int("turn") ?? 0, tool: row["tool"] ?? "",
                    arguments: Self.json(row["arguments"]) ?? .null, resultCharacters: row.int("result_chars") ?? 0,
                    isError: row.bool("is_error") ?? false, error: row["error"],
                    duration: StoreTime.duration(milliseconds: row.int("latency_ms") ?? 0),
                    startedAt: row["started_at"].flatMap(StoreTime.date))
            })
    }

    // MARK: - Approvals

    public func recordApproval(runID: String, stage: String, decision: ApprovalDecision, reason: String?)
        async throws(StoreError)
    {
        // A write behind those queued before it: a batch item's run start, queued and not
        // awaited (`PostgresWorkQueue.startRun`), is committed first (the approval names it).
        try await client.write(Self.decide, [runID, stage, decision.rawValue, reason, StoreTime.text(Date())])
    }

    public func approvedStages(runID: String) async throws(StoreError) -> Set<String> {
        Set(try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                "SELECT stage FROM approvals WHERE run_id = $1 AND decision = $2", [runID, ApprovalDecision.approved.rawValue])
        }.compactMap { $0["stage"] })
    }

    public func waitingStages(runID: String) async throws(StoreError) -> [String] {
        try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                "SELECT stage FROM stages WHERE run_id = $1 AND status = $2 ORDER BY id",
                [runID, StageReport.Status.waiting.rawValue])
        }.compactMap { $0["stage"] }
    }

    public func reject(runID: String, stages: [String], reason: String) async throws(StoreError) {
        let decidedAt = StoreTime.text(Date())
        try await client.withConnection { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) in
                for stage in stages {
                    try connection.execute(Self.decide, [runID, stage, ApprovalDecision.rejected.rawValue, reason, decidedAt])
                }
                try connection.execute(
                    "UPDATE runs SET status = $1, error = $2 WHERE id = $3",
                    [RunStatus.rejected.rawValue, "rejected: \(reason)", runID])
            }
        }
    }

    /// A decision on a stage, replacing an earlier one.
    private static let decide = """
        INSERT INTO approvals (run_id, stage, decision, reason, decided_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (run_id, stage) DO UPDATE
            SET decision = excluded.decision, reason = excluded.reason, decided_at = excluded.decided_at
        """

    // MARK: - Rows

    /// A run's columns, the tokens and cost of its calls (what an unfinished run spent so far),
    /// and whether a worker still works on it (`held`: its item is running under a live lease).
    private static func runQuery(_ filter: String) -> String {
        """
        SELECT runs.*,
            (SELECT SUM(tokens_in) FROM calls WHERE run_id = runs.id) AS calls_tokens_in,
            (SELECT SUM(tokens_out) FROM calls WHERE run_id = runs.id) AS calls_tokens_out,
            (SELECT SUM(cost_usd) FROM calls WHERE run_id = runs.id) AS calls_cost_usd,
            live.run_id IS NOT NULL AS held
        FROM runs LEFT JOIN (
            SELECT DISTINCT run_id FROM items WHERE status = 'running' AND lease_until > now()
        ) live ON live.run_id = runs.id
        \(filter)
        """
    }

    private static func runRow(_ row: PostgresRow) -> RunRow {
        let status = row["status"].flatMap(RunStatus.init(rawValue:)) ?? .failed
        let milliseconds = row.int("duration_ms")
        let finished = milliseconds != nil
        let usage = finished
            ? TokenUsage(input: row.int("tokens_in") ?? 0, output: row.int("tokens_out") ?? 0)
            : TokenUsage(input: row.int("calls_tokens_in") ?? 0, output: row.int("calls_tokens_out") ?? 0)
        let startedAt = row["started_at"].flatMap(StoreTime.date) ?? Date(timeIntervalSince1970: 0)
        return RunRow(
            id: row["id"] ?? "", specPath: row["spec_path"] ?? "", pipelineName: row["name"] ?? "", status: status,
            startedAt: startedAt, duration: milliseconds.map(StoreTime.duration(milliseconds:)), usage: usage,
            costUSD: finished ? row.double("cost_usd") : row.double("calls_cost_usd"), error: row["error"],
            resumedFrom: row["resumed_from"],
            holder: status == .running && row.bool("held") == true
                ? RunHolder(pid: row.int("pid").map { Int32(truncatingIfNeeded: $0) }, host: row["host"], since: startedAt)
                : nil)
    }

    private static func stageRow(_ row: PostgresRow) -> StageRow {
        StageRow(
            stage: row["stage"] ?? "", status: row["status"].flatMap(StageReport.Status.init(rawValue:)) ?? .failed,
            provider: row["provider"] ?? "", modelName: row["model_name"] ?? "", model: row["model"] ?? "",
            attempts: row.int("attempts") ?? 0,
            usage: TokenUsage(input: row.int("tokens_in") ?? 0, output: row.int("tokens_out") ?? 0),
            costUSD: row.double("cost_usd"), latency: StoreTime.duration(milliseconds: row.int("latency_ms") ?? 0),
            output: json(row["output"]), fingerprint: row["fingerprint"], reused: row.bool("reused") ?? false,
            error: row["error"], finishedAt: row["finished_at"].flatMap(StoreTime.date))
    }

    private static func callRow(_ row: PostgresRow) -> CallRow {
        CallRow(
            stage: row["stage"] ?? "", attempt: row.int("attempt") ?? 0, provider: row["provider"] ?? "",
            modelName: row["model_name"] ?? "", model: row["model"] ?? "", request: json(row["request"]) ?? .null,
            reply: row["reply"], status: row["status"].flatMap(CallRecord.Status.init(rawValue:)) ?? .failed,
            problems: json(row["problems"])?.arrayValue?.compactMap(\.stringValue) ?? [],
            usage: TokenUsage(input: row.int("tokens_in") ?? 0, output: row.int("tokens_out") ?? 0),
            costUSD: row.double("cost_usd"), latency: StoreTime.duration(milliseconds: row.int("latency_ms") ?? 0),
            cacheKey: row["cache_key"] ?? "", createdAt: row["created_at"].flatMap(StoreTime.date) ?? Date(timeIntervalSince1970: 0))
    }

    private static func json(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONParser.parse($0) }
    }
}
