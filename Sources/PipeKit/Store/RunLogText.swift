import Foundation

/// `pipe logs` for people: the recent runs as a table, or one run with its stages, calls and
/// outputs. Times are local; spec paths are shown relative to `directory` when inside it.
public struct RunLogText: Sendable {
    /// The folder paths are shown relative to (the current directory).
    public var directory: String
    public var timeZone: TimeZone

    public init(directory: String, timeZone: TimeZone = .current) {
        self.directory = directory
        self.timeZone = timeZone
    }

    public func list(_ rows: [RunRow]) -> String {
        var table: [[String]] = [["run", "spec", "status", "started", "duration", "in", "out", "cost"]]
        for row in rows {
            table.append([
                row.id, spec(row.specPath), row.displayStatus.rawValue, time(row.startedAt),
                row.duration.map(DurationFormat.short) ?? "-", String(row.usage.input), String(row.usage.output),
                row.costUSD.map(RunSummary.usd) ?? "-",
            ])
        }
        return RunSummary.table(table, numericColumns: [4, 5, 6, 7])
    }

    public func detail(_ run: RunDetail) -> String {
        let row = run.row
        var fields: [[String]] = [
            ["run", row.id],
            ["spec", "\(spec(row.specPath)) (\(row.pipelineName))"],
            ["status", row.displayStatus.rawValue
                + (row.displayStatus != row.status ? " (its process is gone)" : row.holder.map { " (in \($0))" } ?? "")],
            ["started", time(row.startedAt) + (row.duration.map { ", took " + DurationFormat.short($0) } ?? "")],
            ["tokens", "\(row.usage.input) in, \(row.usage.output) out"],
            ["cost", row.costUSD.map(RunSummary.usd) ?? "-"],
        ]
        if let resumed = row.resumedFrom { fields.append(["resumes", resumed]) }
        if let error = row.error { fields.append(["error", error]) }
        fields.append(["trace", run.traceID])
        var text = RunSummary.table(fields, numericColumns: [])

        if !run.stages.isEmpty {
            var stages: [[String]] = [["stage", "status", "model", "attempts", "in", "out", "latency", "cost"]]
            for stage in run.stages {
                stages.append([
                    stage.stage, stage.status.display,
                    [StageReport.command, StageReport.pipeline].contains(stage.provider) ? stage.provider : "\(stage.modelName) (\(stage.model))",
                    String(stage.attempts),
                    String(stage.usage.input), String(stage.usage.output), DurationFormat.short(stage.latency),
                    stage.costUSD.map(RunSummary.usd) ?? "-",
                ])
            }
            text += "\n" + RunSummary.table(stages)
        }
        if !run.calls.isEmpty {
            var calls: [[String]] = [["call", "stage", "model", "status", "in", "out", "latency", "problem"]]
            for (index, call) in run.calls.enumerated() {
                calls.append([
                    "#\(index + 1)", "\(call.stage) (attempt \(call.attempt))", "\(call.modelName) (\(call.model))",
                    call.status.rawValue, String(call.usage.input), String(call.usage.output),
                    DurationFormat.short(call.latency), call.problems.first.map { Self.shorten($0, to: 72) } ?? "",
                ])
            }
            text += "\n" + RunSummary.table(calls, numericColumns: [4, 5, 6])
        }
        if !run.toolCalls.isEmpty { text += "\n" + Self.toolCalls(run.toolCalls) }
        for stage in run.stages {
            // A degraded stage's error, also when `on_error` gave it a value.
            if stage.status.isDegraded, stage.output != nil, let error = stage.error {
                text += "\n\(stage.stage) \(stage.status.display): \(error)\n"
            }
            if let output = stage.output {
                text += "\noutput of \(stage.stage):\n" + Self.indent(Self.show(output))
            } else if let error = stage.error {
                text += "\n\(stage.stage) \(stage.status.display): \(error)\n"
            }
        }
        if let output = run.output {
            text += "\noutput:\n" + Self.indent(Self.show(output))
        }
        return text
    }

    /// The tool calls of stages with `tools:`, turn by turn: `pipe logs RUN` shows all of
    /// them, `--stage NAME` (on stderr) those of one stage.
    public static func toolCalls(_ calls: [ToolCallRecord]) -> String {
        var rows: [[String]] = [["tool call", "stage", "turn", "tool", "arguments", "result", "latency", "error"]]
        for (index, call) in calls.enumerated() {
            rows.append([
                "#\(index + 1)", "\(call.stage) (attempt \(call.attempt))", String(call.turn), call.tool,
                shorten(call.arguments.serialized(), to: 48), "\(call.resultCharacters) chars" + (call.isError ? " (error)" : ""),
                DurationFormat.short(call.duration), call.error.map { shorten($0, to: 60) } ?? "",
            ])
        }
        return RunSummary.table(rows, numericColumns: [2])
    }

    /// A stage's or run's value as `--stage` prints it: a string raw, anything else as JSON.
    public static func show(_ value: JSONValue) -> String {
        let text = value.stringValue ?? value.serialized(pretty: true)
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    // MARK: - Pieces

    func spec(_ path: String) -> String {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.isEmpty ? "" : "  " + $0 }
            .joined(separator: "\n") + "\n"
    }

    static func shorten(_ text: String, to length: Int) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count <= length ? line : String(line.prefix(length - 3)) + "..."
    }
}
