import Foundation

/// A run's journal on PostgreSQL: its row in `runs`, and each call and stage written to
/// `calls` and `stages` when the runner reports it, in the same columns as the SQLite
/// store's. A run that resumes another (`NewRun.resumedFrom`: the run a reclaimed batch
/// item's last holder recorded) reuses the stages that run finished, so they are not paid
/// twice. Calls and stages are queued to the client's grouped writes and `record` returns at
/// once (the run does not wait for a commit); `flush` waits until every record queued is
/// committed. A write that fails does not stop the run: the first error is kept in `firstError`.
public final class PostgresJournal: DurableJournal {
    public let runID: String
    let client: PostgresClient
    let reusingFrom: String?
    /// Records queued and not yet committed, who waits for them all (`flush`), the first failure.
    private let pending = PendingWrites()

    init(client: PostgresClient, runID: String, reusingFrom: String?) {
        self.client = client
        self.runID = runID
        self.reusingFrom = reusingFrom
    }

    /// Records a run as `running` (for a batch item: with its batch and index) and returns its journal.
    public static func start(_ run: NewRun, batchItem: (batch: String, index: Int)? = nil, client: PostgresClient)
        async throws(StoreError) -> PostgresJournal
    {
        let startedAt = Date()
        // The 4 random hex digits make a clash within one second unlikely, not impossible.
        for _ in 0..<8 {
            let id = RunID.make(at: startedAt)
            let row = insert(run, id: id, startedAt: startedAt, batchItem: batchItem)
            let inserted = try await client.write(row.sql + "\nON CONFLICT (id) DO NOTHING", row.parameters).affected == 1
            if inserted { return PostgresJournal(client: client, runID: id, reusingFrom: run.resumedFrom) }
        }
        throw .database(path: client.location, reason: "could not find a free run id")
    }

    /// The `INSERT` of run `id`'s row as `running` (without `ON CONFLICT`), and its parameters ($1 to $13).
    static func insert(_ run: NewRun, id: String, startedAt: Date, batchItem: (batch: String, index: Int)?)
        -> (sql: String, parameters: [any PostgresParameter])
    {
        let process = RunHolder.current
        return (
            """
            INSERT INTO runs (id, spec_path, spec_hash, name, status, started_at, input, trace_id, resumed_from,
                pid, host, batch_id, item)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """,
            [
                id, run.specPath, run.specHash, run.pipelineName, RunStatus.running.rawValue, StoreTime.text(startedAt),
                run.input.serialized(), run.traceID, run.resumedFrom, process.pid.map { Int($0) }, process.host,
                batchItem?.batch, batchItem?.index,
            ]
        )
    }

    /// Records how the run ended.
    public func finish(_ end: RunEnd) async throws(StoreError) {
        try await client.write(Self.update(runID, ending: end))
    }

    /// The statement that records how run `id` ended, its parameters numbered from `$first`
    /// (after those of a statement it is part of).
    static func update(_ id: String, ending end: RunEnd, first: Int = 1) -> PostgresStatement {
        let p = { (number: Int) in "$\(first + number - 1)" }
        return PostgresStatement(
            """
            UPDATE runs SET status = \(p(1)), finished_at = \(p(2)), duration_ms = \(p(3)), output = \(p(4)),
                tokens_in = \(p(5)), tokens_out = \(p(6)), cost_usd = \(p(7)), error = \(p(8))
            WHERE id = \(p(9))
            """,
            [
                end.status.rawValue, StoreTime.text(Date()), StoreTime.milliseconds(end.wall), end.output?.serialized(),
                end.usage.input, end.usage.output, end.costUSD, end.error, id,
            ])
    }

    /// The first write or read that failed, if any.
    public var firstError: StoreError? { pending.firstError }

    /// Waits until every record queued is committed; the first write that failed, if any.
    public func flush() async -> StoreError? {
        await pending.flush()
    }

    /// Queues a record's write; `flush` waits for it.
    private func enqueue(_ sql: String, _ parameters: [any PostgresParameter]) {
        enqueue(PostgresStatement(sql, parameters))
    }

    private func enqueue(_ statement: PostgresStatement) {
        pending.add()
        client.enqueue(statement) { [pending] result in
            if case .failure(let failure) = result { pending.done(failure) } else { pending.done(nil) }
        }
    }

    public func reusableOutput(stage: String, fingerprint: String) async -> JSONValue? {
        guard let reusingFrom else { return nil }
        return await finishedOutput(fingerprint: fingerprint, of: (reusingFrom, stage))
    }

    public func cachedOutput(fingerprint: String) async -> JSONValue? {
        await finishedOutput(fingerprint: fingerprint, of: nil)
    }

    /// The value of the last stage that finished with `fingerprint`: of that run's stage, or of any.
    private func finishedOutput(fingerprint: String, of unit: (run: String, stage: String)?) async -> JSONValue? {
        let rows = await keepingError { [client] () async throws(StoreError) in
            try await client.query(
                """
                SELECT output FROM stages
                WHERE \(unit == nil ? "" : "run_id = $2 AND stage = $3 AND ")fingerprint = $1
                    AND status IN ('succeeded', 'reused') AND output IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """, [fingerprint] + (unit.map { [$0.run, $0.stage] } ?? []))
        }
        return rows?.first?["output"].flatMap { try? JSONParser.parse($0) }
    }

    public func cachedReply(key: String) async -> ModelReply? {
        let rows = await keepingError { [client] () async throws(StoreError) in
            try await client.query(
                """
                SELECT reply, tokens_in, tokens_out FROM calls
                WHERE cache_key = $1 AND status = 'ok' AND reply IS NOT NULL
                ORDER BY id DESC LIMIT 1
                """, [key])
        }
        return rows?.first.flatMap { row in
            row["reply"].map {
                ModelReply(text: $0, usage: TokenUsage(input: row.int("tokens_in") ?? 0, output: row.int("tokens_out") ?? 0))
            }
        }
    }

    public func record(_ call: CallRecord) async {
        let parameters: [any PostgresParameter] = [
            runID, call.stage, call.attempt, call.model.provider.name, call.model.name, call.model.model,
            RequestRecord.json(call.request).serialized(), call.reply, call.status.rawValue,
            JSONValue.array(call.problems.map { .string($0) }).serialized(), call.usage.input, call.usage.output,
            call.costUSD, StoreTime.milliseconds(call.latency), call.cacheKey, StoreTime.text(Date()),
        ]
        // A row among others: the calls recorded meanwhile are written in one statement.
        enqueue(
            .row(
                into: """
                    INSERT INTO calls (run_id, stage, attempt, provider, model_name, model, request, reply, status,
                        problems, tokens_in, tokens_out, cost_usd, latency_ms, cache_key, created_at) VALUES
                    """, parameters))
    }

    public func record(_ toolCall: ToolCallRecord) async {
        let parameters: [any PostgresParameter] = [
            runID, toolCall.stage, toolCall.attempt, toolCall.turn, toolCall.tool, toolCall.arguments.serialized(),
            toolCall.resultCharacters, toolCall.isError, toolCall.error, StoreTime.milliseconds(toolCall.duration),
            StoreTime.text(Date()), toolCall.startedAt.map(StoreTime.text),
        ]
        enqueue(ToolCallRecord.insert { "$\($0)" }, parameters)
    }

    public func record(_ stage: StageRecord) async {
        let report = stage.report
        let parameters: [any PostgresParameter] = [
            runID, report.stage, report.status.rawValue, report.model?.provider.name ?? report.withoutModel,
            report.model?.name ?? report.withoutModel, report.model?.model ?? "", report.attempts, report.usage.input, report.usage.output, report.costUSD,
            StoreTime.milliseconds(report.latency), stage.output?.serialized(), stage.fingerprint,
            report.status == .reused, report.error, StoreTime.text(Date()),
        ]
        enqueue(
            .row(
                into: """
                    INSERT INTO stages (run_id, stage, status, provider, model_name, model, attempts, tokens_in,
                        tokens_out, cost_usd, latency_ms, output, fingerprint, reused, error, finished_at) VALUES
                    """, parameters))
    }

    /// Runs `body`; a failure is kept (the first one) and answered with nil.
    @discardableResult
    private func keepingError<T: Sendable>(_ body: @escaping @Sendable () async throws(StoreError) -> T) async -> T? {
        do {
            return try await body()
        } catch {
            pending.keep(error)
            return nil
        }
    }
}
