import Foundation

/// `pipe run --trace FILE`: one JSON object per line for every step of a run, with W3C-style
/// trace and span ids (run → stage → attempt). The event schema is
/// `schemas/trace-event.schema.json`. Each line is written as the event happens; a line that
/// cannot be written (a full disk) ends the trace, and `runEnded` throws why.
public final class TraceWriter: Sendable {
    private struct State {
        var stageSpans: [RunUnitID: String] = [:]
        var attemptSpans: [String: String] = [:]
    }

    public let runID: String
    public let traceID: String
    public let runSpan: String
    /// The caller's span (`TRACEPARENT`), the run's parent.
    public let parentSpan: String?
    private let state: Locked<State>
    private let output: OutputFile

    public init(output: OutputFile, runID: String, traceID: String, parentSpan: String? = nil) {
        self.output = output
        self.runID = runID
        self.traceID = traceID
        self.runSpan = TraceIDs.spanID()
        self.parentSpan = parentSpan
        self.state = Locked(State())
    }

    /// Creates (truncates) the file at `path`; throws when it cannot be.
    public convenience init(path: String, runID: String, traceID: String) throws(WriteError) {
        self.init(output: try OutputFile(creating: path, name: "the trace file \(path)"), runID: runID, traceID: traceID)
    }

    public func runStarted(pipeline: String, stages: Int) {
        write("run_start", span: runSpan, parent: parentSpan, ["pipeline": .string(pipeline), "stages": .number(JSONNumber(stages))])
    }

    /// Writes the last event and closes the file; throws the first write that failed.
    public func runEnded(status: RunStatus, wall: Duration, usage: TokenUsage, costUSD: Double) throws(WriteError) {
        write("run_end", span: runSpan, parent: parentSpan, [
            "status": .string(status.rawValue), "latency_ms": milliseconds(wall), "tokens": tokens(usage), "cost_usd": usd(costUSD),
        ])
        try output.close()
    }

    /// Writes the events a run produces; call from the runner's event callback.
    public func record(_ event: RunEvent) {
        switch event {
        case .stageStarted(let unit):
            let span = state.withLock { state in
                let span = TraceIDs.spanID()
                state.stageSpans[unit] = span
                return span
            }
            write("stage_start", span: span, parent: runSpan, ["stage": .string(unit.description)])
        case .attemptStarted(let unit, let attempt, let model):
            let (span, parent) = state.withLock { state in
                let span = TraceIDs.spanID()
                state.attemptSpans["\(unit)#\(attempt)"] = span
                return (span, state.stageSpans[unit])
            }
            write("request", span: span, parent: parent, [
                "stage": .string(unit.description), "attempt": .number(JSONNumber(attempt)), "model": describe(model),
            ])
        case .callFinished(let call):
            let (known, parent) = state.withLock { ($0.attemptSpans["\(call.stage)#\(call.attempt)"], $0.stageSpans[call.request.unit]) }
            let span = known ?? TraceIDs.spanID()
            var fields: JSONObject = [
                "stage": .string(call.stage), "attempt": .number(JSONNumber(call.attempt)), "model": describe(call.model),
                "status": .string(call.status.rawValue), "latency_ms": milliseconds(call.latency), "tokens": tokens(call.usage),
            ]
            if let cost = call.costUSD { fields["cost_usd"] = usd(cost) }
            if call.status == .failed { fields["error"] = .string(call.problems.first ?? "") }
            write("response", span: span, parent: parent, fields)
            if call.status == .invalid {
                write("validation_failed", span: span, parent: parent, [
                    "stage": .string(call.stage), "attempt": .number(JSONNumber(call.attempt)), "model": describe(call.model),
                    "errors": .array(call.problems.map(JSONValue.string)),
                ])
            }
        case .retrying(let unit, let attempt, let reason, let delay):
            write("retry", span: stageSpan(unit), parent: runSpan, [
                "stage": .string(unit.description), "attempt": .number(JSONNumber(attempt)), "reason": .string(reason.description),
                "delay_ms": milliseconds(delay),
            ])
        case .fallingBack(let unit, let from, let to, let reason):
            write("fallback", span: stageSpan(unit), parent: runSpan, [
                "stage": .string(unit.description), "from": describe(from), "model": describe(to), "reason": .string(reason.description),
            ])
        case .stageFinished(let report):
            var fields: JSONObject = [
                "stage": .string(report.stage), "status": .string(report.status.rawValue),
                "attempts": .number(JSONNumber(report.attempts)), "latency_ms": milliseconds(report.latency),
                "tokens": tokens(report.usage),
            ]
            // A command stage has no model.
            if let model = report.model { fields["model"] = describe(model) }
            if let cost = report.costUSD { fields["cost_usd"] = usd(cost) }
            if let error = report.error { fields["error"] = .string(error) }
            write("stage_end", span: stageSpan(report.unit), parent: runSpan, fields)
        case .rateLimit(let unit, let model, .waiting(let expected, let after429)):
            write("rate_limit_wait", span: stageSpan(unit), parent: runSpan, [
                "stage": .string(unit.description), "model": describe(model), "expected_ms": expected.map(milliseconds) ?? .null,
                "after_429": .bool(after429),
            ])
        case .rateLimit(let unit, let model, .granted(let waited)):
            write("rate_limit_granted", span: stageSpan(unit), parent: runSpan, [
                "stage": .string(unit.description), "model": describe(model), "waited_ms": milliseconds(waited),
            ])
        case .toolCallFinished(let call):
            let parent = state.withLock { $0.attemptSpans["\(call.stage)#\(call.attempt)"] }
            var fields: JSONObject = [
                "stage": .string(call.stage), "attempt": .number(JSONNumber(call.attempt)), "turn": .number(JSONNumber(call.turn)),
                "tool": .string(call.tool), "result_chars": .number(JSONNumber(call.resultCharacters)), "is_error": .bool(call.isError),
                "latency_ms": milliseconds(call.duration),
            ]
            if let error = call.error { fields["error"] = .string(error) }
            write("execute_tool", span: TraceIDs.spanID(), parent: parent ?? stageSpan(RunUnitID(call.stage) ?? RunUnitID(stage: call.stage)), fields)
        case .circuit(let unit, let model, let event):
            var fields: JSONObject = ["stage": .string(unit.description), "model": describe(model)]
            switch event {
            case .opened(let failures, let coolDown):
                fields["state"] = "opened"
                fields["failures"] = .number(JSONNumber(failures))
                fields["cool_down_ms"] = milliseconds(coolDown)
            case .refused(let failures, let retryIn):
                fields["state"] = "refused"
                fields["failures"] = .number(JSONNumber(failures))
                fields["retry_in_ms"] = milliseconds(retryIn)
            case .trial:
                fields["state"] = "trial"
            case .closed(let saved):
                fields["state"] = "closed"
                fields["saved"] = .number(JSONNumber(saved))
            }
            write("circuit", span: stageSpan(unit), parent: runSpan, fields)
        case .streaming:
            break
        }
    }

    private func stageSpan(_ unit: RunUnitID) -> String {
        state.withLock { $0.stageSpans[unit] } ?? runSpan
    }

    private func write(_ event: String, span: String, parent: String?, _ fields: JSONObject) {
        var line: JSONObject = [
            "event": .string(event), "ts": .string(WallClock.now().rfc3339), "run_id": .string(runID), "trace_id": .string(traceID),
            "span_id": .string(span),
        ]
        if let parent { line["parent_span_id"] = .string(parent) }
        for (key, value) in fields { line[key] = value }
        // An event callback cannot throw: the output keeps its first failure for `runEnded`.
        try? output.write(JSONValue.object(line).serialized() + "\n")
    }

    private func describe(_ model: ResolvedModel) -> JSONValue {
        ["name": .string(model.name), "provider": .string(model.provider.name), "id": .string(model.model)]
    }

    private func tokens(_ usage: TokenUsage) -> JSONValue {
        ["input": .number(JSONNumber(usage.input)), "output": .number(JSONNumber(usage.output))]
    }

    private func milliseconds(_ duration: Duration) -> JSONValue {
        .number(JSONNumber((duration.seconds * 1000 * 10).rounded() / 10))
    }

    private func usd(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}
