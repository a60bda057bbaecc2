import Foundation

/// The provider batches of one batch on PostgreSQL (`pipe batch --queue URL --provider-batch`,
/// and its `pipe worker`s), in the tables of migration 3: `provider_batch_requests` holds the
/// requests every worker hands in and the results the lead writes back, `provider_batches`
/// the provider batches the lead created (recorded before they are polled). The lead of a
/// model's batches is whoever holds a session advisory lock keyed by the batch and the model,
/// on a connection of its own: a worker killed with `kill -9` drops its connection, and with
/// it the lock, at once, and the next worker to try takes over.
public final class PostgresProviderBatches: ProviderBatchExchange {
    let client: PostgresClient
    let batch: String
    /// The session that holds the leads of this process.
    private let session: PostgresClient

    public init(client: PostgresClient, batch: String) {
        self.client = client
        self.batch = batch
        session = client.session()
    }

    // MARK: - The batch's choice

    /// Records that the batch's model calls go through provider batches, with `fallback`
    /// (what `--batch-fallback` said), so that every worker does so.
    public static func choose(_ fallback: ProviderBatchOptions.Fallback, batch: String, client: PostgresClient) async throws(StoreError) {
        try await client.write("UPDATE batches SET provider_batch = $2 WHERE id = $1", [batch, fallback.rawValue])
    }

    /// What the batch was submitted with: nil for real-time calls.
    public static func choice(batch: String, client: PostgresClient) async throws(StoreError) -> ProviderBatchOptions.Fallback? {
        try await client.query("SELECT provider_batch FROM batches WHERE id = $1", [batch]).first?["provider_batch"]
            .flatMap(ProviderBatchOptions.Fallback.init(rawValue:))
    }

    // MARK: - ProviderBatchExchange

    public func lead(model: String) async throws(StoreError) -> Bool {
        // Taken again on every call: a session lock is counted, and this also takes it back
        // on a connection that was made again after the server dropped the first.
        try await session.query(
            "SELECT pg_try_advisory_lock(hashtext('pipe provider batches'), hashtext($1 || ' ' || $2)) AS locked",
            [batch, model]
        ).first?.bool("locked") ?? false
    }

    public func share(_ requests: [BatchedRequest], model: String) async throws(StoreError) {
        for chunk in requests.chunks(of: Self.chunk) {
            // [custom_id, body, item] for each.
            let rows = JSONValue.array(
                chunk.map { .array([.string($0.customID), .string($0.json), $0.item.map { .number(JSONNumber($0)) } ?? .null]) })
            try await execute(
                """
                INSERT INTO provider_batch_requests (batch_id, model, custom_id, body, item)
                SELECT $1, $2, r->>0, r->>1, (r->>2)::integer FROM jsonb_array_elements($3::jsonb) AS r ORDER BY r->>0
                ON CONFLICT (batch_id, model, custom_id) DO NOTHING
                """, [batch, model, rows.serialized()])
        }
    }

    public func results(of customIDs: [String], model: String) async throws(StoreError) -> [String: String] {
        var results: [String: String] = [:]
        for chunk in customIDs.chunks(of: Self.chunk) {
            let rows = try await client.query(
                """
                SELECT r.custom_id, r.result FROM jsonb_array_elements_text($3::jsonb) AS v(id)
                JOIN provider_batch_requests r ON r.batch_id = $1 AND r.model = $2 AND r.custom_id = v.id
                WHERE r.result IS NOT NULL
                """, [batch, model, Self.array(chunk)])
            for row in rows {
                if let id = row["custom_id"], let result = row["result"] { results[id] = result }
            }
        }
        return results
    }

    public func forget(_ customIDs: [String], model: String) async throws(StoreError) {
        for chunk in customIDs.chunks(of: Self.chunk) {
            try await execute(
                """
                DELETE FROM provider_batch_requests r USING jsonb_array_elements_text($3::jsonb) AS v(id)
                WHERE r.batch_id = $1 AND r.model = $2 AND r.custom_id = v.id
                """, [batch, model, Self.array(chunk)])
        }
    }

    public func collectedBatches() async throws(StoreError) -> Int {
        try await client.query(
            "SELECT count(*) AS count FROM provider_batches WHERE batch_id = $1 AND state = 'collected'", [batch]
        ).first?.int("count") ?? 0
    }

    public func backlog(model: String) async throws(StoreError) -> ProviderBatchBacklog {
        // An item waits when a request of its (any model) has no result yet; the items are
        // counted only when requests wait. `NOT IN` a subquery is a hashed subplan whatever
        // the planner believes of the tables' sizes (one pass over each): a `NOT EXISTS`,
        // planned while the tables had no statistics yet (they fill within seconds), was a
        // nested loop over every item and every request, seconds a look.
        let row = try await client.query(
            """
            WITH waiting AS (
                SELECT count(*) AS requests FROM provider_batch_requests
                WHERE batch_id = $1 AND model = $2 AND provider_batch_id IS NULL AND result IS NULL
            )
            SELECT requests, CASE WHEN requests = 0 THEN 0 ELSE (
                SELECT count(*) FROM items i
                WHERE i.batch_id = $1 AND i.finished_at IS NULL AND i.status = 'running' AND i.item NOT IN (
                    SELECT r.item FROM provider_batch_requests r
                    WHERE r.batch_id = $1 AND r.result IS NULL AND r.item IS NOT NULL)
            ) END AS busy FROM waiting
            """, [batch, model]
        ).first
        return ProviderBatchBacklog(requests: row?.int("requests") ?? 0, busyItems: row?.int("busy") ?? 0)
    }

    public func pending(model: String, limit: Int) async throws(StoreError) -> [BatchedRequest] {
        try await client.query(
            """
            SELECT custom_id, body FROM provider_batch_requests
            WHERE batch_id = $1 AND model = $2 AND provider_batch_id IS NULL AND result IS NULL
            ORDER BY seq LIMIT $3
            """, [batch, model, limit]
        ).compactMap { row in
            guard let id = row["custom_id"], let body = row["body"] else { return nil }
            return BatchedRequest(customID: id, json: body)
        }
    }

    public func submitted(_ provider: SubmittedProviderBatch, model: String) async throws(StoreError) {
        let ids = Self.array(provider.customIDs)
        let parameters: [any PostgresParameter] = [
            provider.id, batch, provider.provider, provider.model, ids, StoreTime.text(Date()), model,
        ]
        // One transaction: the batch recorded and its requests no longer pending (their
        // bodies are not needed again: a request not answered is asked again under a new id).
        try await client.withConnection { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) in
                try connection.execute(
                    """
                    INSERT INTO provider_batches (id, batch_id, provider, model, custom_ids, state, created_at)
                    VALUES ($1, $2, $3, $4, $5, 'in_flight', $6) ON CONFLICT (id) DO NOTHING
                    """, Array(parameters[0..<6]))
                try connection.execute(
                    """
                    UPDATE provider_batch_requests r SET provider_batch_id = $3, body = ''
                    FROM jsonb_array_elements_text($4::jsonb) AS v(id)
                    WHERE r.batch_id = $1 AND r.model = $2 AND r.custom_id = v.id
                    """, [parameters[1], model, provider.id, ids])
            }
        }
    }

    public func inFlight(model: String) async throws(StoreError) -> [SubmittedProviderBatch] {
        try await Self.inFlight(batch: batch, client: client).filter { $0.provider + " " + $0.model == model }
    }

    public func answer(_ results: [String: String], model: String) async throws(StoreError) {
        // All of them in one transaction (one commit, not one a chunk), `chunk` a statement.
        let chunks = Array(results).chunks(of: Self.chunk).map { chunk in
            JSONValue.object(JSONObject(chunk.map { ($0.key, JSONValue.string($0.value)) })).serialized()
        }
        let batch = batch
        try await client.withConnection { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) in
                for texts in chunks {
                    try connection.execute(
                        """
                        UPDATE provider_batch_requests r SET result = v.value, body = ''
                        FROM jsonb_each_text($3::jsonb) AS v
                        WHERE r.batch_id = $1 AND r.model = $2 AND r.custom_id = v.key
                        """, [batch, model, texts])
                }
            }
        }
    }

    public func collected(_ batchID: String) async throws(StoreError) {
        try await Self.set(batchID, .collected, client: client)
    }

    // MARK: - `pipe batch cancel`

    /// The provider batches of `batch` recorded and not collected, oldest first.
    public static func inFlight(batch: String, client: PostgresClient) async throws(StoreError) -> [SubmittedProviderBatch] {
        try await client.query(
            "SELECT * FROM provider_batches WHERE batch_id = $1 AND state = 'in_flight' ORDER BY created_at, id", [batch]
        ).map { row in
            let ids = row["custom_ids"].flatMap { try? JSONParser.parse($0) }?.arrayValue?.compactMap(\.stringValue) ?? []
            return SubmittedProviderBatch(id: row["id"] ?? "", provider: row["provider"] ?? "", model: row["model"] ?? "", customIDs: ids)
        }
    }

    public static func set(_ id: String, _ state: SQLiteWorkQueue.ProviderBatchState, client: PostgresClient) async throws(StoreError) {
        try await client.write("UPDATE provider_batches SET state = $2 WHERE id = $1", [id, state.rawValue])
    }

    /// Requests per statement.
    static let chunk = 5000

    /// A statement of the exchange, on the next idle connection (a transaction of its own):
    /// not queued behind the runs' records (`PostgresClient.write`), which thousands of items
    /// write at once, while the workers wait for each other's requests and results.
    private func execute(_ sql: String, _ parameters: [any PostgresParameter]) async throws(StoreError) {
        try await client.withConnection { connection throws(PostgresError) in try connection.execute(sql, parameters) }
    }

    private static func array(_ values: some Collection<String>) -> String {
        JSONValue.array(values.map { .string($0) }).serialized()
    }
}
