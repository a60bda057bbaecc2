import Foundation
import GRDB

/// The provider batches of `pipe batch --provider-batch` in the run store (migration "v7:
/// provider batches"): each recorded with its custom_ids once created, before it is polled,
/// so that `pipe batch --resume` re-attaches to the batches in flight instead of submitting
/// their requests again, and `pipe batch cancel` finds them.
extension SQLiteWorkQueue {
    static func createProviderBatchTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE provider_batches (
                id TEXT NOT NULL PRIMARY KEY,
                batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                custom_ids TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            CREATE INDEX provider_batches_batch ON provider_batches(batch_id, state);
            """)
    }

    /// Where a provider batch stands for pipe.
    public enum ProviderBatchState: String, Sendable {
        /// Created; its results not collected yet.
        case inFlight = "in_flight"
        case collected
        case canceled
    }

    public func recordProviderBatch(_ batch: SubmittedProviderBatch, of batchID: String) async throws(StoreError) {
        let ids = JSONValue.array(batch.customIDs.map { .string($0) }).serialized()
        try await store.write { db in
            try db.execute(
                sql: """
                    INSERT INTO provider_batches (id, batch_id, provider, model, custom_ids, state, created_at)
                    VALUES (?, ?, ?, ?, ?, 'in_flight', ?) ON CONFLICT (id) DO NOTHING
                    """,
                arguments: [batch.id, batchID, batch.provider, batch.model, ids, StoreTime.text(Date())])
        }
    }

    public func setProviderBatch(_ id: String, _ state: ProviderBatchState) async throws(StoreError) {
        try await store.write { db in
            try db.execute(sql: "UPDATE provider_batches SET state = ? WHERE id = ?", arguments: [state.rawValue, id])
        }
    }

    /// The provider batches of `batchID` still in flight, in the order they were created.
    public func providerBatchesInFlight(of batchID: String) throws(StoreError) -> [SubmittedProviderBatch] {
        try providerBatches(of: batchID, state: .inFlight)
    }

    /// The provider batches of `batchID` in `state`, in the order they were created.
    public func providerBatches(of batchID: String, state: ProviderBatchState) throws(StoreError) -> [SubmittedProviderBatch] {
        do {
            return try store.database.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM provider_batches WHERE batch_id = ? AND state = ? ORDER BY created_at, id",
                    arguments: [batchID, state.rawValue]
                ).map { row in
                    let ids = (try? JSONParser.parse(row["custom_ids"] as String))?.arrayValue?.compactMap(\.stringValue) ?? []
                    return SubmittedProviderBatch(id: row["id"], provider: row["provider"], model: row["model"], customIDs: ids)
                }
            }
        } catch {
            throw .database(path: store.path, reason: RunStore.reason(error))
        }
    }
}
