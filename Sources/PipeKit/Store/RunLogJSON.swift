/// `pipe logs --json`: runs, stages and calls as JSON, with the store's column names.
/// Times are UTC ISO 8601; durations and latencies are whole milliseconds.
public enum RunLogJSON {
    public static func list(_ rows: [RunRow]) -> JSONValue {
        .array(rows.map { .object(JSONObject(members($0))) })
    }

    public static func detail(_ run: RunDetail) -> JSONValue {
        var fields = members(run.row)
        fields += [
            ("spec_hash", .string(run.specHash)),
            ("trace_id", .string(run.traceID)),
            ("input", run.input),
            ("output", run.output ?? .null),
            ("stages", .array(run.stages.map(stage))),
            ("calls", .array(run.calls.map(call))),
            ("tool_calls", .array(run.toolCalls.map(toolCall))),
        ]
        return .object(JSONObject(fields))
    }

    static func members(_ row: RunRow) -> [(String, JSONValue)] {
        [
            ("id", .string(row.id)),
            ("spec", .string(row.specPath)),
            ("name", .string(row.pipelineName)),
            ("status", .string(row.displayStatus.rawValue)),
            ("started_at", .string(StoreTime.text(row.startedAt))),
            ("duration_ms", row.duration.map { int(StoreTime.milliseconds($0)) } ?? .null),
            ("tokens_in", int(row.usage.input)),
            ("tokens_out", int(row.usage.output)),
            ("cost_usd", row.costUSD.map(number) ?? .null),
            ("error", row.error.map(JSONValue.string) ?? .null),
            ("resumed_from", row.resumedFrom.map(JSONValue.string) ?? .null),
        ]
    }

    static func stage(_ stage: StageRow) -> JSONValue {
        .object(JSONObject([
            ("stage", .string(stage.stage)),
            ("status", .string(stage.status.rawValue)),
            ("provider", .string(stage.provider)),
            ("model_name", .string(stage.modelName)),
            ("model", .string(stage.model)),
            ("attempts", int(stage.attempts)),
            ("tokens_in", int(stage.usage.input)),
            ("tokens_out", int(stage.usage.output)),
            ("cost_usd", stage.costUSD.map(number) ?? .null),
            ("latency_ms", int(StoreTime.milliseconds(stage.latency))),
            ("output", stage.output ?? .null),
            ("reused", .bool(stage.reused)),
            ("error", stage.error.map(JSONValue.string) ?? .null),
            ("fingerprint", stage.fingerprint.map(JSONValue.string) ?? .null),
        ]))
    }

    static func toolCall(_ call: ToolCallRecord) -> JSONValue {
        .object(JSONObject([
            ("stage", .string(call.stage)),
            ("attempt", int(call.attempt)),
            ("turn", int(call.turn)),
            ("tool", .string(call.tool)),
            ("arguments", call.arguments),
            ("result_chars", int(call.resultCharacters)),
            ("is_error", .bool(call.isError)),
            ("error", call.error.map(JSONValue.string) ?? .null),
            ("latency_ms", int(StoreTime.milliseconds(call.duration))),
        ]))
    }

    static func call(_ call: CallRow) -> JSONValue {
        .object(JSONObject([
            ("stage", .string(call.stage)),
            ("attempt", int(call.attempt)),
            ("provider", .string(call.provider)),
            ("model_name", .string(call.modelName)),
            ("model", .string(call.model)),
            ("status", .string(call.status.rawValue)),
            ("request", call.request),
            ("reply", call.reply.map(JSONValue.string) ?? .null),
            ("problems", .array(call.problems.map(JSONValue.string))),
            ("tokens_in", int(call.usage.input)),
            ("tokens_out", int(call.usage.output)),
            ("cost_usd", call.costUSD.map(number) ?? .null),
            ("latency_ms", int(StoreTime.milliseconds(call.latency))),
            ("cache_key", .string(call.cacheKey)),
            ("created_at", .string(StoreTime.text(call.createdAt))),
        ]))
    }

    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    static func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}
