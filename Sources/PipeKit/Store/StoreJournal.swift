import Foundation
import GRDB

/// The run store as a run's journal: each call and stage is written in its own transaction
/// when the runner reports it. Writes go through GRDB's writer queue, off Swift
/// concurrency's threads, and are not abandoned when the run is cancelled (Ctrl-C), so the
/// calls and stages that end while a run stops are recorded too. A write that fails does not
/// stop the run: the first error is kept in `firstError` for the command to report.
public final class StoreJournal: RunJournal {
    public let runID: String
    let store: RunStore
    let reusingFrom: String?
    private let error = Locked<StoreError?>(nil)

    init(store: RunStore, runID: String, reusingFrom: String?) {
        self.store = store
        self.runID = runID
        self.reusingFrom = reusingFrom
    }

    /// The first write or read that failed, if any.
    public var firstError: StoreError? { error.withLock { $0 } }

    public func reusableOutput(stage: String, fingerprint: String) async -> JSONValue? {
        guard let reusingFrom else { return nil }
        let text: String? = await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT output FROM stages
                    WHERE run_id = ? AND stage = ? AND fingerprint = ? AND status IN ('succeeded', 'reused')
                        AND output IS NOT NULL
                    ORDER BY id DESC LIMIT 1
                    """, arguments: [reusingFrom, stage, fingerprint])
        }
        return text.flatMap { try? JSONParser.parse($0) }
    }

    public func cachedReply(key: String) async -> ModelReply? {
        await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT reply, tokens_in, tokens_out FROM calls
                    WHERE cache_key = ? AND status = 'ok' AND reply IS NOT NULL
                    ORDER BY id DESC LIMIT 1
                    """, arguments: [key]
            ).flatMap { row in
                let text: String? = row["reply"]
                let usage = TokenUsage(input: row["tokens_in"], output: row["tokens_out"])
                return text.map { ModelReply(text: $0, usage: usage) }
            }
        }
    }

    public func record(_ call: CallRecord) async {
        let arguments: StatementArguments = [
            runID, call.stage, call.attempt, call.model.provider.name, call.model.name, call.model.model,
            RequestRecord.json(call.request).serialized(), call.reply, call.status.rawValue,
            JSONValue.array(call.problems.map { .string($0) }).serialized(), call.usage.input, call.usage.output,
            call.costUSD, StoreTime.milliseconds(call.latency), call.cacheKey, StoreTime.text(Date()),
        ]
        await write { db in
            try db.execute(
                sql: """
                    INSERT INTO calls (run_id, stage, attempt, provider, model_name, model, request, reply, status,
                        problems, tokens_in, tokens_out, cost_usd, latency_ms, cache_key, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
        }
    }

    public func record(_ stage: StageRecord) async {
        let report = stage.report
        let arguments: StatementArguments = [
            runID, report.stage, report.status.rawValue, report.model.provider.name, report.model.name,
            report.model.model, report.attempts, report.usage.input, report.usage.output, report.costUSD,
            StoreTime.milliseconds(report.latency), stage.output?.serialized(), stage.fingerprint,
            report.status == .reused, report.error, StoreTime.text(Date()),
        ]
        await write { db in
            try db.execute(
                sql: """
                    INSERT INTO stages (run_id, stage, status, provider, model_name, model, attempts, tokens_in,
                        tokens_out, cost_usd, latency_ms, output, fingerprint, reused, error, finished_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
        }
    }

    // MARK: - Access

    /// Waits for the write without blocking a Swift concurrency thread, and without being
    /// cancelled with the calling task.
    private func write(_ updates: @escaping @Sendable (Database) throws -> Void) async {
        let failure: StoreError? = await withCheckedContinuation { continuation in
            store.database.asyncWrite(updates) { [path = store.path] _, result in
                switch result {
                case .success: continuation.resume(returning: nil)
                case .failure(let error):
                    continuation.resume(returning: .database(path: path, reason: RunStore.reason(error)))
                }
            }
        }
        if let failure { keep(failure) }
    }

    private func keep(_ failure: StoreError) {
        error.withLock { first in
            if first == nil { first = failure }
        }
    }

    private func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T?) async -> T? {
        let result: Result<T?, StoreError> = await withCheckedContinuation { continuation in
            store.database.asyncRead { [path = store.path] database in
                do {
                    continuation.resume(returning: .success(try value(database.get())))
                } catch {
                    continuation.resume(returning: .failure(.database(path: path, reason: RunStore.reason(error))))
                }
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error):
            keep(error)
            return nil
        }
    }
}

/// A request as the store keeps it: what was sent to the model, never how (no key, no header,
/// no URL, which may carry credentials).
enum RequestRecord {
    static func json(_ request: ModelRequest) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("provider", .string(request.model.provider.name)),
            ("model", .string(request.model.model)),
        ]
        if let system = request.system { members.append(("system", .string(system))) }
        let messages = request.messages.map { message in
            JSONValue.object(JSONObject([("role", .string(message.role.rawValue)), ("content", message.contentJSON)]))
        }
        members.append(("messages", .array(messages)))
        if !request.tools.isEmpty { members.append(("tools", .array(request.tools.map(\.json)))) }
        if let schema = request.outputSchema { members.append(("schema", schema)) }
        members.append(("max_tokens", .number(JSONNumber(request.maxTokens))))
        if let temperature = request.temperature { members.append(("temperature", .number(JSONNumber(temperature)))) }
        return .object(JSONObject(members))
    }
}
