import Foundation

/// `pipe report RUN`: the run's summary, its DAG, its timeline and every stage with its
/// attempts (rendered prompt, reply, validation errors), tool calls and output.
public enum RunReport {
    /// The most stage runs shown in detail; the page says how many were left out.
    static let maxDetailedUnits = 2000
    /// The most characters of one prompt, reply or output shown.
    static let maxText = 16_000

    public static func page(_ data: RunReportData) -> ReportPage {
        let row = data.detail.row
        let timeline = Timeline(data)
        let statuses = StageStatusSummary.summaries(data.detail.stages)
        var recorded: [String] = []
        for stage in data.detail.stages {
            let name = RunUnitID(stage.stage)?.stage ?? stage.stage
            if !recorded.contains(name) { recorded.append(name) }
        }
        let dag = DAGPicture(statuses: statuses, pipeline: data.pipeline, recordedStages: recorded)
        let sections: [any ReportSection] = [
            MadeSection(title: "Summary", anchor: "summary", body: summary(data, timeline)),
            MadeSection(title: "DAG", anchor: "dag", body: (data.dagNote.map {
                "<p class=\"note\">Drawn from the recorded stages, without edges: \(HTML.escape($0)).</p>"
            } ?? "") + "<div class=\"scroll\">\(dag.svg())</div>"),
            MadeSection(title: "Timeline", anchor: "timeline", body: timelineSection(timeline)),
            MadeSection(title: "Stages", anchor: "stages", body: stages(data, timeline)),
        ]
        return ReportPage(
            title: "Run \(row.id): \(row.pipelineName)",
            subtitle: "\(row.displayStatus.rawValue), started \(StoreTime.text(row.startedAt))"
                + (row.duration.map { ", took \(DurationFormat.short($0))" } ?? ""),
            sections: sections)
    }

    static func summary(_ data: RunReportData, _ timeline: Timeline) -> String {
        let detail = data.detail, row = detail.row
        let retries = detail.calls.filter { $0.attempt > 1 }.count
        let failedStages = detail.stages.filter { $0.status == .failed }.map(\.stage)
        var fields: [(String, String)] = [
            ("run", HTML.escape(row.id)),
            ("pipeline", HTML.escape(row.pipelineName)),
            ("spec", HTML.escape(row.specPath)),
            ("status", "<span class=\"status-\(HTML.escape(row.displayStatus.rawValue))\">\(HTML.escape(row.displayStatus.rawValue))</span>"),
            ("started", HTML.escape(StoreTime.text(row.startedAt))),
            ("duration", HTML.escape(row.duration.map(DurationFormat.short) ?? "-")),
            ("tokens", "\(row.usage.input) in, \(row.usage.output) out"),
            ("cost", HTML.escape(ReportPage.usd(row.costUSD))),
            ("stages", "\(detail.stages.count) recorded, \(detail.calls.count) model calls, \(retries) retries, "
                + "\(detail.toolCalls.count) tool calls"),
        ]
        if let slowest = timeline.units.max(by: { $0.end - $0.start < $1.end - $1.start }) {
            fields.append(("slowest stage", "<a href=\"#\(HTML.anchor("stage", slowest.id))\">\(HTML.escape(slowest.id))</a> ("
                + HTML.escape(DurationFormat.short(.milliseconds(Int(((slowest.end - slowest.start) * 1000).rounded())))) + ")"))
        }
        let critical = timeline.units.filter(\.critical).sorted { $0.start < $1.start }.map(\.id)
        if !critical.isEmpty { fields.append(("critical path", HTML.escape(critical.joined(separator: " → ")))) }
        if !failedStages.isEmpty {
            fields.append(("failed", failedStages.map { "<a href=\"#\(HTML.anchor("stage", $0))\">\(HTML.escape($0))</a>" }
                .joined(separator: ", ")))
        }
        if let error = row.error { fields.append(("error", "<span class=\"status-failed\">\(HTML.escape(error))</span>")) }
        if let resumed = row.resumedFrom { fields.append(("resumes", HTML.escape(resumed))) }
        fields.append(("trace id", "<code>\(HTML.escape(detail.traceID))</code>"))
        var html = ReportPage.fields(fields)
        html += "<details><summary>input</summary><pre>\(HTML.escape(HTML.capped(show(detail.input), maxText)))</pre></details>"
        if let output = detail.output {
            html += "<details><summary>output</summary><pre>\(HTML.escape(HTML.capped(show(output), maxText)))</pre></details>"
        }
        return html
    }

    static func timelineSection(_ timeline: Timeline) -> String {
        var html = """
            <p class="legend"><span><i style="background:#e0e0e0"></i>stage, start to end (waits included)</span>\
            <span><i style="background:#2e7d32"></i>attempt ok</span><span><i style="background:#ef6c00"></i>invalid reply</span>\
            <span><i style="background:#c62828"></i>failed attempt</span><span><i style="background:#90caf9"></i>from the cache</span>\
            <span><i style="background:#fff;border:2px solid #4a148c"></i>fallback model</span>\
            <span><i style="background:#ffe0b2;border:1px solid #ef6c00"></i>★ critical path</span>\
            <span><i style="background:#7e57c2"></i>tool call (red: failed)</span></p>
            """
        if timeline.units.count > Timeline.maxRows {
            html += "<p class=\"note\">The first \(Timeline.maxRows) of \(timeline.units.count) stage runs are drawn.</p>"
        }
        return html + "<div class=\"scroll\">\(timeline.svg())</div>"
    }

    static func stages(_ data: RunReportData, _ timeline: Timeline) -> String {
        let detail = data.detail
        var callsByUnit: [String: [CallRow]] = [:]
        for call in detail.calls { callsByUnit[call.stage, default: []].append(call) }
        var toolsByUnit: [String: [ToolCallRecord]] = [:]
        for call in detail.toolCalls { toolsByUnit[call.stage, default: []].append(call) }
        let critical = Set(timeline.units.filter(\.critical).map(\.id))
        var html = ""
        if detail.stages.count > maxDetailedUnits {
            html += "<p class=\"note\">The first \(maxDetailedUnits) of \(detail.stages.count) stage runs are shown in detail; "
                + "<code>pipe logs \(HTML.escape(detail.row.id)) --json</code> has them all.</p>"
        }
        for stage in detail.stages.prefix(maxDetailedUnits) {
            html += self.stage(stage, calls: callsByUnit[stage.stage] ?? [], tools: toolsByUnit[stage.stage] ?? [],
                               critical: critical.contains(stage.stage))
        }
        return html.isEmpty ? "<p class=\"note\">No stage of this run ended.</p>" : html
    }

    static func stage(_ stage: StageRow, calls: [CallRow], tools: [ToolCallRecord], critical: Bool) -> String {
        let classes = ["stage", stage.status.rawValue] + (critical ? ["critical"] : [])
        var html = "<section class=\"\(classes.joined(separator: " "))\" id=\"\(HTML.anchor("stage", stage.stage))\" "
            + "data-stage=\"\(HTML.escape(stage.stage))\"><h3>\(HTML.escape(stage.stage))</h3>"
        let model = [StageReport.command, StageReport.pipeline].contains(stage.provider) ? stage.provider
            : stage.model.isEmpty ? "-" : "\(stage.modelName) (\(stage.provider): \(stage.model))"
        var fields: [(String, String)] = [
            ("status", "<span class=\"status-\(HTML.escape(stage.status.rawValue))\">\(HTML.escape(stage.status.rawValue))</span>"
                + (stage.reused ? " (reused from the resumed run)" : "")),
            ("model", HTML.escape(model)),
            ("tokens", "\(stage.usage.input) in, \(stage.usage.output) out"),
            ("cost", HTML.escape(ReportPage.usd(stage.costUSD))),
            ("latency", HTML.escape(DurationFormat.short(stage.latency))),
            ("attempts", "\(stage.attempts)"),
        ]
        if let error = stage.error { fields.append(("error", "<span class=\"status-failed\">\(HTML.escape(error))</span>")) }
        html += ReportPage.fields(fields)
        for call in calls {
            let status = call.status.rawValue
            html += "<details class=\"call \(HTML.escape(status))\" data-attempt=\"\(call.attempt)\"><summary>attempt \(call.attempt): "
                + HTML.escape("\(call.modelName) (\(call.model)), \(status), \(DurationFormat.short(call.latency)), "
                    + "\(call.usage.input) in, \(call.usage.output) out, \(ReportPage.usd(call.costUSD))") + "</summary>"
            if !call.problems.isEmpty {
                html += "<p>Validation errors and problems:</p><ul class=\"problems\">"
                    + call.problems.prefix(50).map { "<li>\(HTML.escape(HTML.capped($0, 2000)))</li>" }.joined() + "</ul>"
            }
            html += "<p>Prompt:</p><pre class=\"prompt\">\(HTML.escape(HTML.capped(prompt(call.request), maxText)))</pre>"
            html += "<p>Reply:</p><pre class=\"reply\">\(HTML.escape(HTML.capped(call.reply ?? "(no reply)", maxText)))</pre>"
            html += "</details>"
        }
        if !tools.isEmpty {
            let rows = tools.prefix(200).map { tool in
                [
                    "\(tool.attempt)", "\(tool.turn)", HTML.escape(tool.tool),
                    HTML.escape(HTML.capped(tool.arguments.serialized(), 300)), "\(tool.resultCharacters)",
                    HTML.escape(tool.error ?? (tool.isError ? "error result" : "ok")), HTML.escape(DurationFormat.short(tool.duration)),
                ]
            }
            html += "<details class=\"tools\"><summary>\(tools.count) tool calls</summary>"
                + ReportPage.table(["attempt", "turn", "tool", "arguments", "result chars", "result", "took"], rows) + "</details>"
        }
        if let output = stage.output {
            html += "<details class=\"output\"><summary>output</summary><pre class=\"output\">"
                + HTML.escape(HTML.capped(show(output), maxText)) + "</pre></details>"
        }
        return html + "</section>\n"
    }

    /// What was sent, as a person reads it: the system prompt, then each message by role.
    static func prompt(_ request: JSONValue) -> String {
        var parts: [String] = []
        if let system = request["system"]?.stringValue { parts.append("[system]\n" + system) }
        for message in request["messages"]?.arrayValue ?? [] {
            let role = message["role"]?.stringValue ?? "message"
            let content = message["content"]
            let text: String
            if let string = content?.stringValue {
                text = string
            } else if let blocks = content?.arrayValue {
                text = blocks.map { $0["text"]?.stringValue ?? $0.serialized() }.joined(separator: "\n")
            } else {
                text = content?.serialized() ?? ""
            }
            parts.append("[\(role)]\n" + text)
        }
        return parts.isEmpty ? request.serialized(pretty: true) : parts.joined(separator: "\n\n")
    }

    /// A string as it is, anything else as indented JSON.
    static func show(_ value: JSONValue) -> String {
        value.stringValue ?? value.serialized(pretty: true)
    }
}
