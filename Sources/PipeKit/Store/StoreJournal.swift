import Foundation
import GRDB

/// The run store as a run's journal (`DurableJournal`): each call and stage is queued as a
/// write on the store's connection the moment the runner reports it (committed with the
/// store's other writes queued meanwhile, `RunStore.enqueue`), and `record`
/// returns at once, so a stage's dependents start without waiting for the disk. The queue
/// is the connection's serial queue: records are written in order, and a read
/// (`reusableOutput`, `cachedReply`) runs after the writes queued before it. Writes are
/// not abandoned when the run is cancelled (Ctrl-C), so the calls and stages that end while
/// a run stops are recorded too. A write that fails does not stop the run: the first error
/// is kept, and `flush` returns it.
final class StoreJournal: DurableJournal {
    let runID: String
    let store: RunStore
    let reusingFrom: String?
    private let pending = PendingWrites()

    init(store: RunStore, runID: String, reusingFrom: String?) {
        self.store = store
        self.runID = runID
        self.reusingFrom = reusingFrom
    }

    func flush() async -> StoreError? {
        store.hurry()
        return await pending.flush()
    }

    var resumes: Bool { reusingFrom != nil }

    /// The records queued last are committed at once, not at the end of their window: while
    /// the next units' requests are made (a chain's), or the run's output (its last unit's).
    func idle() {
        store.hurry()
    }

    func reusableOutput(stage: String, fingerprint: String) async -> JSONValue? {
        guard let reusingFrom else { return nil }
        return await finishedOutput(fingerprint: fingerprint, of: (reusingFrom, stage))
    }

    func cachedOutput(fingerprint: String) async -> JSONValue? {
        await finishedOutput(fingerprint: fingerprint, of: nil)
    }

    /// The value of the last stage that finished with `fingerprint`: of that run's stage, or of any.
    private func finishedOutput(fingerprint: String, of unit: (run: String, stage: String)?) async -> JSONValue? {
        let text: String? = await read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT output FROM stages
                    WHERE \(unit == nil ? "" : "run_id = ? AND stage = ? AND ")fingerprint = ? AND status IN (?, ?)
                        AND output IS NOT NULL
                    ORDER BY id DESC LIMIT 1
                    """,
                arguments: StatementArguments(
                    (unit.map { [$0.run, $0.stage] } ?? [])
                        + [fingerprint, StageReport.Status.succeeded.rawValue, StageReport.Status.reused.rawValue]))
        }
        return text.flatMap { try? JSONParser.parse($0) }
    }

    func cachedReply(key: String) async -> ModelReply? {
        await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT reply, tokens_in, tokens_out FROM calls
                    WHERE cache_key = ? AND status = ? AND reply IS NOT NULL
                    ORDER BY id DESC LIMIT 1
                    """, arguments: [key, CallRecord.Status.ok.rawValue]
            ).flatMap { row in
                let text: String? = row["reply"]
                let usage = TokenUsage(input: row["tokens_in"], output: row["tokens_out"])
                return text.map { ModelReply(text: $0, usage: usage) }
            }
        }
    }

    static let insertCall = """
        INSERT INTO calls (run_id, stage, attempt, provider, model_name, model, request, reply, status,
            problems, tokens_in, tokens_out, cost_usd, latency_ms, cache_key, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static let insertStage = """
        INSERT INTO stages (run_id, stage, status, provider, model_name, model, attempts, tokens_in,
            tokens_out, cost_usd, latency_ms, output, fingerprint, reused, error, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    func record(_ call: CallRecord) async {
        // Serialized (and its time formatted) on the store's queue, not on the thread that runs
        // the stages (HTTP's).
        let (runID, created) = (runID, Date())
        enqueue { db in
            try db.run(
                Self.insertCall, runID, call.stage, call.attempt, call.model.provider.name, call.model.name, call.model.model,
                RequestRecord.json(call.request).serialized(), call.reply, call.status.rawValue,
                JSONValue.array(call.problems.map { .string($0) }).serialized(), call.usage.input, call.usage.output,
                call.costUSD, StoreTime.milliseconds(call.latency), call.cacheKey, StoreTime.text(created))
        }
    }

    func record(_ toolCall: ToolCallRecord) async {
        let (runID, created) = (runID, Date())
        enqueue { db in
            try db.cachedStatement(sql: ToolCallRecord.insert { _ in "?" }).execute(
                arguments: [
                    runID, toolCall.stage, toolCall.attempt, toolCall.turn, toolCall.tool, toolCall.arguments.serialized(),
                    toolCall.resultCharacters, toolCall.isError, toolCall.error, StoreTime.milliseconds(toolCall.duration), StoreTime.text(created),
                    toolCall.startedAt.map(StoreTime.text),
                ])
        }
    }

    func record(_ stage: StageRecord) async {
        let (runID, finished) = (runID, Date())
        enqueue { db in
            let report = stage.report
            try db.run(
                Self.insertStage, runID, report.stage, report.status.rawValue, report.model?.provider.name ?? report.withoutModel,
                report.model?.name ?? report.withoutModel, report.model?.model ?? "", report.attempts, report.usage.input,
                report.usage.output, report.costUSD, StoreTime.milliseconds(report.latency), stage.output?.serialized(),
                stage.fingerprint, report.status == .reused, report.error, StoreTime.text(finished))
        }
    }

    // MARK: - Access

    /// A record queued, written unless the run's start could not be (`RunStore.queuedStart`):
    /// its id may then be another run's.
    private func enqueue(_ updates: @escaping @Sendable (Database) throws -> Void) {
        pending.add()
        let (store, runID) = (store, runID)
        store.enqueue({ db in
            try store.checkStarted(runID)
            try updates(db)
        }) { [pending] failure in pending.done(failure) }
    }

    /// A read that fails is kept as the journal's error, and answers nil (nothing to reuse).
    private func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T?) async -> T? {
        do {
            return try await store.read(value)
        } catch {
            pending.keep(error)
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
