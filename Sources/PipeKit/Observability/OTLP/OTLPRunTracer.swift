/// Turns one run's events into spans after the OpenTelemetry GenAI semantic conventions and
/// queues them on an `OTLPExporter`: `invoke_workflow {pipeline}` for the run (the trace's root,
/// or a child of the caller's `TRACEPARENT` span), `invoke_agent {stage}` for each run of a
/// stage (its iteration and fan-out item as attributes), `chat {model}` for each model call (an
/// attempt, or a turn of a tool loop) and `execute_tool {tool}` for each tool call. Attach it
/// where the run's events are observed: `record` from the runner's event callback, `finish`
/// when the run has ended. Each call only builds a span and queues it.
public final class OTLPRunTracer: Sendable {
    public let traceID: String
    /// The run's root span.
    public let runSpanID: String
    private let exporter: OTLPExporter
    private let parent: TraceParent?
    private let pipeline: String
    private let runID: String
    private let extra: [(key: String, value: OTLPValue)]
    private let start: UInt64

    private struct Stage {
        var spanID: String
        var start: UInt64
        var lastErrorKind: String?
    }

    private let stages = Locked<[RunUnitID: Stage]>([:])

    /// The run `runID` of `pipeline`, in trace `traceID` (the caller's when `parent` is given);
    /// `attributes` go on its root span (a batch's id and item).
    public init(
        exporter: OTLPExporter, traceID: String, parent: TraceParent?, runID: String, pipeline: String,
        attributes: [(key: String, value: OTLPValue)] = []
    ) {
        self.exporter = exporter
        self.traceID = traceID
        self.parent = parent
        self.runID = runID
        self.pipeline = pipeline
        self.extra = attributes
        self.runSpanID = TraceIDs.spanID()
        self.start = OTLPSpan.now()
    }

    private var capture: Bool { exporter.configuration.captureContent }

    public func record(_ event: RunEvent) {
        switch event {
        case .stageStarted(let unit):
            stages.withLock { $0[unit] = Stage(spanID: TraceIDs.spanID(), start: OTLPSpan.now()) }
        case .callFinished(let call):
            chat(call)
        case .toolCallFinished(let call):
            tool(call)
        case .stageFinished(let report):
            stage(report)
        case .attemptStarted, .streaming, .rateLimit, .retrying, .fallingBack, .circuit:
            break
        }
    }

    /// Ends the root span with the run's outcome, totals and cost.
    public func finish(_ result: PipelineRunner.Result) {
        let status = result.outcome.status
        var attributes: [(key: String, value: OTLPValue)] = [
            ("gen_ai.operation.name", .string("invoke_workflow")), ("gen_ai.workflow.name", .string(pipeline)),
            ("pipe.run.id", .string(runID)), ("pipe.run.status", .string(status.rawValue)),
            ("gen_ai.usage.input_tokens", .int(Int64(result.usage.input))), ("gen_ai.usage.output_tokens", .int(Int64(result.usage.output))),
            ("pipe.cost_usd", .double(result.costUSD)),
        ]
        attributes += extra
        var spanStatus = OTLPSpan.Status.unset
        switch result.outcome {
        case .succeeded, .waitingForApproval:
            break
        case .stageFailed(let stage, _, let failure):
            attributes.append(("error.type", .string(stages.withLock { $0[stage]?.lastErrorKind } ?? "stage_failed")))
            spanStatus = .error("stage `\(stage)` failed: \(failure)")
        case .budgetExceeded(_, let failure):
            attributes.append(("error.type", .string("budget_exceeded")))
            spanStatus = .error("\(failure)")
        case .interrupted:
            attributes.append(("error.type", .string("interrupted")))
            spanStatus = .error("interrupted")
        }
        exporter.enqueue(
            OTLPSpan(
                traceID: traceID, spanID: runSpanID, parentSpanID: parent?.spanID, traceState: parent?.traceState,
                name: "invoke_workflow \(pipeline)", kind: .internal, start: start, end: OTLPSpan.now(), attributes: attributes,
                status: spanStatus))
    }

    // MARK: - Spans

    private func stageSpan(_ unit: RunUnitID) -> String {
        stages.withLock { $0[unit]?.spanID } ?? runSpanID
    }

    private func chat(_ call: CallRecord) {
        let end = OTLPSpan.now()
        let model = call.model
        var attributes: [(key: String, value: OTLPValue)] = [
            ("gen_ai.operation.name", .string("chat")), ("gen_ai.provider.name", .string(model.provider.name)),
            ("gen_ai.request.model", .string(model.model)), ("gen_ai.request.max_tokens", .int(Int64(call.request.maxTokens))),
        ]
        if let temperature = call.request.temperature { attributes.append(("gen_ai.request.temperature", .double(temperature))) }
        if call.status != .failed {
            // The model the provider says answered; the one requested when none said (the mock, the cache).
            attributes.append(("gen_ai.response.model", .string(call.responseModel ?? model.model)))
            attributes.append(("gen_ai.usage.input_tokens", .int(Int64(call.usage.input))))
            attributes.append(("gen_ai.usage.output_tokens", .int(Int64(call.usage.output))))
        }
        if let reason = call.stopReason { attributes.append(("gen_ai.response.finish_reasons", .strings([Self.finishReason(reason)]))) }
        if let cost = call.costUSD { attributes.append(("pipe.cost_usd", .double(cost))) }
        attributes += [
            ("pipe.run.id", .string(runID)), ("pipe.stage", .string(call.stage)), ("pipe.stage.attempt", .int(Int64(call.attempt))),
            ("pipe.model", .string(model.name)), ("pipe.call.status", .string(call.status.rawValue)),
        ]
        var status = OTLPSpan.Status.unset
        switch call.status {
        case .failed:
            let kind = call.errorKind ?? "_OTHER"
            attributes.append(("error.type", .string(kind)))
            status = .error(call.problems.first ?? kind)
            stages.withLock { $0[call.request.unit]?.lastErrorKind = kind }
        case .invalid:
            attributes.append(("error.type", .string("invalid_output")))
            status = .error(call.problems.first ?? "the reply does not match the output schema")
            stages.withLock { $0[call.request.unit]?.lastErrorKind = "invalid_output" }
        case .ok, .cached, .turn:
            break
        }
        if capture {
            if let system = call.request.system {
                attributes.append(("gen_ai.system_instructions", .string(Self.json([["type": "text", "content": .string(system)]]))))
            }
            attributes.append(("gen_ai.input.messages", .string(Self.json(.array(call.request.messages.map(Self.message))))))
            if let reply = call.reply {
                var message: JSONObject = ["role": "assistant", "parts": [["type": "text", "content": .string(reply)]]]
                if let reason = call.stopReason { message["finish_reason"] = .string(Self.finishReason(reason)) }
                attributes.append(("gen_ai.output.messages", .string(Self.json([.object(message)]))))
            }
        }
        exporter.enqueue(
            OTLPSpan(
                traceID: traceID, spanID: TraceIDs.spanID(), parentSpanID: stageSpan(call.request.unit),
                name: "chat \(model.model)", kind: .client, start: OTLPSpan.before(end, call.latency), end: end,
                attributes: attributes, status: status))
    }

    private func tool(_ call: ToolCallRecord) {
        // The calls of a turn are reported once they have all ended: timed from their start.
        let end = call.startedAt.map { OTLPSpan.unixNanoseconds($0) &+ OTLPSpan.nanoseconds(call.duration) } ?? OTLPSpan.now()
        var attributes: [(key: String, value: OTLPValue)] = [
            ("gen_ai.operation.name", .string("execute_tool")), ("gen_ai.tool.name", .string(call.tool)),
            ("gen_ai.tool.type", .string("extension")),
            ("pipe.run.id", .string(runID)), ("pipe.stage", .string(call.stage)), ("pipe.stage.attempt", .int(Int64(call.attempt))),
            ("pipe.tool.turn", .int(Int64(call.turn))), ("pipe.tool.result_chars", .int(Int64(call.resultCharacters))),
        ]
        if let id = call.callID, !id.isEmpty { attributes.append(("gen_ai.tool.call.id", .string(id))) }
        var status = OTLPSpan.Status.unset
        if call.error != nil || call.isError {
            attributes.append(("error.type", .string(call.error != nil ? "tool_failed" : "tool_error")))
            status = .error(call.error ?? "the tool returned an error")
        }
        if capture {
            attributes.append(("gen_ai.tool.call.arguments", .string(Self.json(call.arguments))))
            if let result = call.result { attributes.append(("gen_ai.tool.call.result", .string(Self.capped(result)))) }
        }
        // A sibling of the `chat` span whose reply asked for it, under the unit's `invoke_agent`.
        let unit = RunUnitID(call.stage) ?? RunUnitID(stage: call.stage)
        exporter.enqueue(
            OTLPSpan(
                traceID: traceID, spanID: TraceIDs.spanID(), parentSpanID: stageSpan(unit), name: "execute_tool \(call.tool)",
                kind: .internal, start: OTLPSpan.before(end, call.duration), end: end, attributes: attributes, status: status))
    }

    private func stage(_ report: StageReport) {
        let end = OTLPSpan.now()
        let unit = report.unit
        let known = stages.withLock { $0.removeValue(forKey: unit) }
        var attributes: [(key: String, value: OTLPValue)] = [
            ("gen_ai.operation.name", .string("invoke_agent")), ("gen_ai.agent.name", .string(unit.stage)),
        ]
        if let model = report.model {
            attributes.append(("gen_ai.provider.name", .string(model.provider.name)))
            attributes.append(("gen_ai.request.model", .string(model.model)))
        }
        attributes += [
            ("gen_ai.usage.input_tokens", .int(Int64(report.usage.input))), ("gen_ai.usage.output_tokens", .int(Int64(report.usage.output))),
            ("pipe.run.id", .string(runID)), ("pipe.stage", .string(report.stage)), ("pipe.stage.status", .string(report.status.rawValue)),
            ("pipe.stage.attempts", .int(Int64(report.attempts))),
        ]
        if let iteration = unit.iteration { attributes.append(("pipe.stage.iteration", .int(Int64(iteration)))) }
        if let item = unit.item { attributes.append(("pipe.stage.item", .int(Int64(item)))) }
        if let cost = report.costUSD { attributes.append(("pipe.cost_usd", .double(cost))) }
        var status = OTLPSpan.Status.unset
        if report.status == .failed {
            attributes.append(("error.type", .string(known?.lastErrorKind ?? "stage_failed")))
            status = .error(report.error ?? "failed")
        }
        exporter.enqueue(
            OTLPSpan(
                traceID: traceID, spanID: known?.spanID ?? TraceIDs.spanID(), parentSpanID: runSpanID,
                name: "invoke_agent \(unit.stage)", kind: .internal, start: known?.start ?? OTLPSpan.before(end, report.latency),
                end: end, attributes: attributes, status: status))
    }

    // MARK: - Content (only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)

    /// The most characters of content one attribute carries; the rest is cut.
    static let maxContentCharacters = 64 * 1024

    private static func json(_ value: JSONValue) -> String { capped(value.serialized()) }

    private static func capped(_ text: String) -> String {
        text.count > maxContentCharacters ? String(text.prefix(maxContentCharacters)) : text
    }

    /// A message as the GenAI conventions' `gen_ai.input.messages` write it: a role and its parts.
    private static func message(_ message: ChatMessage) -> JSONValue {
        let parts: [JSONValue] = message.content.map { block in
            switch block {
            case .text(let text): ["type": "text", "content": .string(text)]
            case .toolUse(let id, let name, let input): ["type": "tool_call", "id": .string(id), "name": .string(name), "arguments": input]
            case .toolResult(let id, let content, _): ["type": "tool_call_response", "id": .string(id), "response": .string(content)]
            }
        }
        return ["role": .string(message.role.rawValue), "parts": .array(parts)]
    }

    /// The conventions' finish reasons: `stop`, `length`, `content_filter`, `tool_call`.
    static func finishReason(_ reason: StopReason) -> String {
        switch reason {
        case .endTurn, .stopSequence: "stop"
        case .maxTokens: "length"
        case .toolUse: "tool_call"
        case .refusal: "content_filter"
        case .other(let name): name.isEmpty ? "other" : name
        }
    }
}
