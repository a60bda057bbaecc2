import Foundation

/// The batch queue on PostgreSQL, shared by the workers of any number of machines. A claim
/// is one statement, so one transaction: it locks the first open items with
/// `FOR UPDATE SKIP LOCKED` (an item another worker is claiming at that moment is skipped,
/// not waited for), so no two workers take one item. Leases are kept on the database's clock.
public final class PostgresWorkQueue: WorkQueue {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public func create(_ batch: NewBatch) async throws(StoreError) {
        let parameters: [any PostgresParameter] = [
            batch.id, batch.specPath, batch.specText, batch.schemaFilesJSON, batch.specHash, batch.pipelineName,
            StoreTime.text(batch.createdAt),
        ]
        try await client.write(
            """
            INSERT INTO batches (id, spec_path, spec_text, schema_files, spec_hash, name, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, parameters)
    }

    /// Rows per statement: 7 parameters each, well under PostgreSQL's 65,535.
    static let enqueueChunk = 1000

    public func enqueue(batch: String, items: [QueuedItem]) async throws(StoreError) {
        let ended = StoreTime.text(Date())
        for chunk in items.chunks(of: Self.enqueueChunk) {
            var parameters: [any PostgresParameter] = []
            var rows: [String] = []
            for item in chunk {
                let first = parameters.count
                switch item.input {
                case .success(let input):
                    parameters += [batch, item.index, item.line, item.storedInput(input), ItemStatus.pending.rawValue, String?.none, String?.none]
                case .failure(let invalid):
                    parameters += [batch, item.index, item.line, String?.none, ItemStatus.invalidInput.rawValue, invalid.message, ended]
                }
                rows.append("(" + (first + 1...first + 7).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO items (batch_id, item, line, input, status, error, finished_at) VALUES "
                + rows.joined(separator: ", ") + " ON CONFLICT (batch_id, item) DO NOTHING"
            try await client.write(sql, parameters)
        }
    }

    public func sealBatch(_ batch: String) async throws(StoreError) {
        try await client.write("UPDATE batches SET sealed = true WHERE id = $1", [batch])
    }

    public func claim(batch: String, worker: String, limit: Int, lease: Duration) async throws(StoreError) -> [Claim] {
        let rows = try await client.write(
            """
            WITH picked AS (
                SELECT item FROM items
                WHERE batch_id = $1 AND finished_at IS NULL
                    AND (status = 'pending' OR (status = 'running' AND lease_until < now()))
                ORDER BY item
                LIMIT $3
                FOR UPDATE SKIP LOCKED
            )
            UPDATE items SET status = 'running', worker = $2, claims = items.claims + 1,
                lease_until = now() + $4::float8 * interval '1 millisecond'
            FROM picked
            WHERE items.batch_id = $1 AND items.item = picked.item
            RETURNING items.item, items.line, items.input, items.run_id, items.claims
            """, [batch, worker, limit, StoreTime.milliseconds(lease)]).rows
        return rows.map { row in
            Claim(
                batch: batch, index: row.int("item") ?? 0, line: row.int("line") ?? 0,
                input: row["input"].flatMap { try? JSONParser.parse($0) } ?? .null, worker: worker,
                previousRunID: row["run_id"], claims: row.int("claims") ?? 0)
        }.sorted { $0.index < $1.index }
    }

    public func renew(batch: String, worker: String, items: [Int], lease: Duration) async throws(StoreError) -> [Int] {
        let rows = try await client.write(
            """
            UPDATE items SET lease_until = now() + $4::float8 * interval '1 millisecond'
            WHERE batch_id = $1 AND worker = $2 AND status = 'running' AND item = ANY($3::int[])
            RETURNING item
            """, [batch, worker, PostgresIntArray(values: items), StoreTime.milliseconds(lease)]).rows
        return rows.compactMap { $0.int("item") }.sorted()
    }

    /// Queued, not awaited: the item's first call does not wait for a round trip and a
    /// commit. The start is written in the client's next group of writes, ahead of the run's
    /// records and the item's finish (queued after it, so a killed worker loses them all or
    /// none, in order); the item names the run in the same statement, if the worker still
    /// holds it. The id is not checked before it is used, so it has 48 random bits
    /// (`RunID.makeLong`): should another run hold it all the same, the insert fails, and
    /// neither the run's end nor its name on the item is written (`finish` matches the run's
    /// batch and item); its call and stage records would then stand under the other run's id.
    public func startRun(_ run: NewRun, for claim: Claim) async throws(StoreError) -> String {
        let startedAt = Date()
        let id = RunID.makeLong(at: startedAt)
        let row = PostgresJournal.insert(run, id: id, startedAt: startedAt, batchItem: (claim.batch, claim.index))
        let item = row.parameters.count
        let start = PostgresStatement(
            """
            WITH run AS (\(row.sql) RETURNING id)
            UPDATE items SET run_id = run.id FROM run
            WHERE batch_id = $\(item + 1) AND item = $\(item + 2) AND worker = $\(item + 3) AND claims = $\(item + 4)
                AND status = 'running'
            """, row.parameters + [claim.batch, claim.index, claim.worker, claim.claims])
        // A failed start shows in what is written after it: the run's end and the item's name
        // for it are not (`finish`), and the journal's records fail alike when the database does.
        client.enqueue(start) { _ in }
        return id
    }

    public func finish(_ claim: Claim, result: ItemResult, runEnd: RunEnd?) async throws(StoreError) -> Bool {
        precondition(result.status.hasEnded, "an item ends succeeded, failed or invalid_input")
        let parameters: [any PostgresParameter] = [
            claim.batch, claim.index, claim.worker, claim.claims, result.status.rawValue, result.output?.serialized(),
            result.runID, result.stage, result.error, result.usage.input, result.usage.output, result.costUSD,
            StoreTime.text(Date()),
        ]
        let finish = { (runID: String) in
            """
            UPDATE items SET status = $5, output = $6, run_id = \(runID), stage = $8, error = $9,
                tokens_in = $10, tokens_out = $11, cost_usd = $12, finished_at = $13, lease_until = NULL
            WHERE
            """ + " " + Self.held
        }
        guard let runID = result.runID, let runEnd else {
            return try await client.write(PostgresStatement(finish("COALESCE($7, run_id)"), parameters)).affected == 1
        }
        // The run's end and the item's in one statement (one write of a group, one commit);
        // the run's end is written whether or not the worker still holds the item, if the run's
        // row is this item's (its queued start wrote it: `startRun`); the item names the run
        // only then.
        let run = PostgresJournal.update(runID, ending: runEnd, first: parameters.count + 1)
        return try await client.write(
            "WITH run AS (\(run.sql) AND batch_id = $1 AND item = $2 RETURNING id)\n"
                + finish("CASE WHEN EXISTS (SELECT FROM run) THEN $7 ELSE run_id END"), parameters + run.parameters
        ).affected == 1
    }

    public func release(batch: String, worker: String, items: [Int]) async throws(StoreError) {
        try await client.write(
            """
            UPDATE items SET status = 'pending', worker = NULL, lease_until = NULL
            WHERE batch_id = $1 AND worker = $2 AND status = 'running' AND item = ANY($3::int[])
            """, [batch, worker, PostgresIntArray(values: items)])
    }

    /// How many workers hold a live lease on an item: among them a model's rate limit is divided.
    public func liveWorkers() async throws(StoreError) -> Int {
        try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                """
                SELECT count(DISTINCT worker) AS count FROM items
                WHERE finished_at IS NULL AND status = 'running' AND lease_until > now()
                """)
        }.first?.int("count") ?? 0
    }

    /// Removes a batch and its items (its runs stay in `runs`).
    public func deleteBatch(_ batch: String) async throws(StoreError) {
        try await client.write("DELETE FROM batches WHERE id = $1", [batch])
    }

    /// The claim's item, still held by its worker under this very claim (the worker's lease
    /// may have lapsed, but no one claimed the item since): parameters $1 to $4.
    private static let held = "batch_id = $1 AND item = $2 AND worker = $3 AND claims = $4 AND status = 'running'"

    // MARK: - Reading

    public func batch(_ reference: String) async throws(StoreError) -> BatchInfo? {
        let rows = try await client.withConnection { connection throws(PostgresError) in
            reference == "last"
                ? try connection.query(Self.batchQuery("") + " LIMIT 1")
                : try connection.query(Self.batchQuery("WHERE starts_with(b.id, $1)") + " LIMIT 6", [reference])
        }
        if let exact = rows.first(where: { $0["id"] == reference }) { return Self.batchInfo(exact) }
        guard rows.count <= 1 else {
            let candidates = rows.compactMap { $0["id"] }
            throw .database(
                path: client.location,
                reason: "batch id `\(reference)` matches \(rows.count == 6 ? "more than 5" : String(rows.count)) batches ("
                    + candidates.prefix(5).joined(separator: ", ") + "); give more of it")
        }
        return rows.first.map(Self.batchInfo)
    }

    public func batches(limit: Int) async throws(StoreError) -> [BatchInfo] {
        try await client.withConnection { connection throws(PostgresError) in
            try connection.query(Self.batchQuery("") + " LIMIT $1", [limit])
        }.map(Self.batchInfo)
    }

    /// Counts only the items not ended, through their index (`items_unfinished`): a look for
    /// work at the end of a large batch no longer reads every item of it.
    public func openBatches(limit: Int) async throws(StoreError) -> [BatchInfo] {
        try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                """
                SELECT b.id, b.spec_path, b.spec_text, b.schema_files, b.spec_hash, b.name, b.created_at, b.sealed,
                    u.pending, u.running
                FROM batches b CROSS JOIN LATERAL (
                    SELECT count(*) FILTER (WHERE i.status = 'pending') AS pending,
                        count(*) FILTER (WHERE i.status = 'running') AS running
                    FROM items i WHERE i.batch_id = b.id AND i.finished_at IS NULL
                ) u
                WHERE NOT b.sealed OR u.pending + u.running > 0
                ORDER BY b.created_at DESC, b.id DESC LIMIT $1
                """, [limit])
        }.map(Self.batchInfo)
    }

    public func counts(batch: String) async throws(StoreError) -> BatchCounts {
        let rows = try await client.withConnection { connection throws(PostgresError) in
            try connection.query("SELECT status, count(*) AS count FROM items WHERE batch_id = $1 GROUP BY status", [batch])
        }
        var counts = BatchCounts()
        for row in rows {
            guard let status = row["status"].flatMap(ItemStatus.init(rawValue:)) else { continue }
            counts[status] = row.int("count") ?? 0
        }
        return counts
    }

    public func results(batch: String, after: Int?, limit: Int) async throws(StoreError) -> [ItemResult] {
        let rows = try await client.withConnection { connection throws(PostgresError) in
            try connection.query(
                """
                SELECT item, line, status, output, run_id, stage, error, tokens_in, tokens_out, cost_usd FROM items
                WHERE batch_id = $1 AND item > $2 AND status IN ('succeeded', 'failed', 'invalid_input')
                ORDER BY item LIMIT $3
                """, [batch, after ?? -1, limit])
        }
        return rows.map { row in
            ItemResult(
                index: row.int("item") ?? 0, status: row["status"].flatMap(ItemStatus.init(rawValue:)) ?? .failed,
                output: row["output"].flatMap { try? JSONParser.parse($0) }, runID: row["run_id"], stage: row["stage"],
                error: row["error"], usage: TokenUsage(input: row.int("tokens_in") ?? 0, output: row.int("tokens_out") ?? 0),
                costUSD: row.double("cost_usd"), line: row.int("line"))
        }
    }

    /// Batches with their counts, newest first.
    private static func batchQuery(_ filter: String) -> String {
        """
        SELECT b.id, b.spec_path, b.spec_text, b.schema_files, b.spec_hash, b.name, b.created_at, b.sealed,
            count(i.item) FILTER (WHERE i.status = 'pending') AS pending,
            count(i.item) FILTER (WHERE i.status = 'running') AS running,
            count(i.item) FILTER (WHERE i.status = 'succeeded') AS succeeded,
            count(i.item) FILTER (WHERE i.status = 'failed') AS failed,
            count(i.item) FILTER (WHERE i.status = 'invalid_input') AS invalid_input
        FROM batches b LEFT JOIN items i ON i.batch_id = b.id
        \(filter)
        GROUP BY b.id ORDER BY b.created_at DESC, b.id DESC
        """
    }

    private static func batchInfo(_ row: PostgresRow) -> BatchInfo {
        var counts = BatchCounts()
        for status in ItemStatus.allCases { counts[status] = row.int(status.rawValue) ?? 0 }
        return BatchInfo(
            submitted: NewBatch(
                id: row["id"] ?? "", specPath: row["spec_path"] ?? "", specText: row["spec_text"] ?? "",
                schemaFiles: NewBatch.schemaFiles(fromJSON: row["schema_files"]), specHash: row["spec_hash"] ?? "",
                pipelineName: row["name"] ?? "",
                createdAt: row["created_at"].flatMap(StoreTime.date) ?? Date(timeIntervalSince1970: 0)),
            sealed: row.bool("sealed") ?? false, counts: counts)
    }
}

extension Array {
    /// The array cut into consecutive slices of `size` (the last may be shorter).
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
