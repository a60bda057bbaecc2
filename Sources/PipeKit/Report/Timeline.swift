import Foundation

/// The run on a time axis: one row per unit (a stage, a loop iteration, a `for_each` item),
/// its span as a light bar (from when it started to when it ended, waits included) and each
/// attempt (a model call) as a solid bar coloured by how it ended: a retry after an invalid
/// reply or an error, a fallback to another model, a reply from the cache. Gaps between a
/// unit's start and its attempts are waits (rate limits, back-off). The critical path (the
/// chain of units, each waiting for the one before it, that ends last) is marked.
///
/// Each tool call is a thin bar on a row of its own under its unit's row (calls of a turn run
/// at once, so overlapping calls get rows of their own), named, red when it failed or its
/// result went back as an error.
///
/// Times come from the store: a unit's end (`StageRow.finishedAt`) and latency, each call's
/// end (`CallRow.createdAt`) and latency, each tool call's start and duration (a store written
/// before tool calls' starts were kept lists them under each stage only).
struct Timeline {
    /// A tool call on the time axis: its row under the unit (from 0) and its span.
    struct Tool {
        var call: ToolCallRecord
        var start: Double
        var end: Double
        var lane: Int
    }

    struct Unit {
        var id: String
        var unit: RunUnitID
        var status: String
        var start: Double
        var end: Double
        /// Its attempts, with their start and end in seconds from the run's start.
        var calls: [(call: CallRow, start: Double, end: Double)]
        var critical = false
        /// Its tool calls whose start is known.
        var tools: [Tool] = []
        var lanes: Int { (tools.map(\.lane).max() ?? -1) + 1 }
    }

    var units: [Unit]
    /// Seconds from the run's start to its end (or its last recorded moment).
    var total: Double
    /// The most rows drawn; the page says how many were left out.
    static let maxRows = 2000

    init(_ data: RunReportData) {
        let detail = data.detail
        let origin = detail.row.startedAt
        var callsByUnit: [String: [CallRow]] = [:]
        for call in detail.calls { callsByUnit[call.stage, default: []].append(call) }
        func seconds(_ date: Date) -> Double { date.timeIntervalSince(origin) }
        func timed(_ calls: [CallRow]) -> [(call: CallRow, start: Double, end: Double)] {
            calls.map { ($0, seconds($0.createdAt) - $0.latency.seconds, seconds($0.createdAt)) }
        }
        var units: [Unit] = []
        var seen = Set<String>()
        for row in detail.stages {
            let calls = timed(callsByUnit[row.stage] ?? [])
            guard let end = row.finishedAt.map(seconds) ?? calls.map(\.end).max() else { continue }
            let start = min(end - row.latency.seconds, calls.map(\.start).min() ?? .infinity)
            seen.insert(row.stage)
            units.append(Unit(
                id: row.stage, unit: RunUnitID(row.stage) ?? RunUnitID(stage: row.stage), status: row.status.rawValue,
                start: max(0, start), end: end, calls: calls))
        }
        // Calls of a unit that never recorded its end (the run was killed, or is still going).
        for (id, recorded) in callsByUnit where !seen.contains(id) {
            let calls = timed(recorded)
            let start = calls.map(\.start).min() ?? 0
            let end = calls.map(\.end).max() ?? 0
            units.append(Unit(
                id: id, unit: RunUnitID(id) ?? RunUnitID(stage: id), status: "unfinished", start: max(0, start), end: end,
                calls: calls))
        }
        units.sort { ($0.start, $0.end, $0.id) < ($1.start, $1.end, $1.id) }
        var toolsByUnit: [String: [ToolCallRecord]] = [:]
        for call in detail.toolCalls where call.startedAt != nil { toolsByUnit[call.stage, default: []].append(call) }
        for index in units.indices {
            units[index].tools = (toolsByUnit[units[index].id] ?? []).prefix(Self.maxToolsPerUnit).map { call in
                let start = seconds(call.startedAt ?? origin)
                return Tool(call: call, start: start, end: start + call.duration.seconds, lane: 0)
            }
        }
        let total = max(
            detail.row.duration?.seconds ?? 0, units.map(\.end).max() ?? 0, units.flatMap(\.tools).map(\.end).max() ?? 0, 0.001)
        // A bar's name is written after it: a row is free once the bar and its name have passed.
        let room = total * Self.toolLabelWidth / Self.plotWidth
        for index in units.indices { units[index].tools = Self.lanes(units[index].tools, room: room) }
        self.units = units
        self.total = total
        markCriticalPath(data.pipeline)
    }

    /// The most tool calls drawn under one unit (the stage's section lists them all, up to its own cap).
    static let maxToolsPerUnit = 200
    /// The most rows of tool calls under one unit.
    static let maxLanes = 8
    /// The room a tool call's name takes after its bar, in points.
    static let toolLabelWidth = 150.0

    /// Each call on the first row where it overlaps no other, `room` seconds (its name) after
    /// each bar included (calls of a turn run at once); a call that finds none goes on the last row.
    static func lanes(_ tools: [Tool], room: Double) -> [Tool] {
        var ends: [Double] = []
        return tools.sorted { ($0.start, $0.call.turn) < ($1.start, $1.call.turn) }.map { tool in
            var placed = tool
            if let free = ends.firstIndex(where: { $0 <= tool.start }) {
                placed.lane = free
            } else if ends.count < maxLanes {
                placed.lane = ends.count
                ends.append(0)
            } else {
                placed.lane = maxLanes - 1
            }
            ends[placed.lane] = max(ends[placed.lane], tool.end + room)
            return placed
        }
    }

    /// From the unit that ended last, back through what each unit waited for: among the units
    /// it could have waited for (those of the stages it reads, earlier iterations of its loop;
    /// any unit when the DAG is unknown) that ended by its start, the one that ended last. A
    /// `for_each` as a whole waited for its slowest item.
    private mutating func markCriticalPath(_ pipeline: CompiledPipeline?) {
        let order = Dictionary(uniqueKeysWithValues: (pipeline?.stages ?? []).enumerated().map { ($1.name, $0) })
        let graph = pipeline.map(Graph.init)
        guard var current = lastToEnd(units.indices, order: order, graph: graph) else { return }
        let tolerance = 0.002 + total * 0.001
        var marked = Set<Int>()
        while marked.insert(current).inserted {
            units[current].critical = true
            let unit = units[current]
            let items = units.indices.filter {
                units[$0].unit.stage == unit.unit.stage && unit.unit.item == nil && units[$0].unit.item != nil
                    && units[$0].unit.iteration == unit.unit.iteration
            }
            if let slowest = items.max(by: { units[$0].end < units[$1].end }) {
                current = slowest
                continue
            }
            let candidates = units.indices.filter { index in
                let other = units[index]
                guard index != current, other.end <= unit.start + tolerance, other.unit.item == nil || other.unit.stage != unit.unit.stage
                else { return false }
                return graph?.waitsFor(unit.unit, other.unit) ?? true
            }
            guard let previous = lastToEnd(candidates, order: order, graph: graph) else { return }
            current = previous
        }
    }

    /// The unit that ended last. Times are recorded to the millisecond, so units can end
    /// together: then one that none of the others could have waited for (a unit's start is its
    /// end less its latency, both rounded, so a stage that started after another ended can seem
    /// to have started first), then the one that started last, then the later iteration, then
    /// the stage later in the pipeline's topological `order`.
    private func lastToEnd(_ indices: some Sequence<Int>, order: [String: Int], graph: Graph?) -> Int? {
        func key(_ index: Int) -> (Double, Double, Int, Int) {
            let unit = units[index]
            return (unit.end, unit.start, unit.unit.iteration ?? 0, order[unit.unit.stage] ?? 0)
        }
        guard let end = indices.map({ units[$0].end }).max() else { return nil }
        let together = indices.filter { units[$0].end == end }
        let waitedFor = together.filter { index in
            together.contains { $0 != index && graph?.waitsFor(units[$0].unit, units[index].unit) == true }
        }
        let last = together.filter { !waitedFor.contains($0) }
        return (last.isEmpty ? together : last).max { key($0) < key($1) }
    }

    /// What each stage reads and the loop it belongs to, looked up by name.
    private struct Graph {
        var dependencies: [String: Set<String>] = [:]
        var loops: [String: String] = [:]

        init(_ pipeline: CompiledPipeline) {
            for stage in pipeline.stages {
                dependencies[stage.name] = Set(stage.dependencies)
                loops[stage.name] = stage.loop
            }
        }

        /// Whether `unit` could have waited for `other` to end.
        func waitsFor(_ unit: RunUnitID, _ other: RunUnitID) -> Bool {
            guard let reads = dependencies[unit.stage] else { return true }
            let otherLoop = loops[other.stage]
            if let loop = loops[unit.stage], otherLoop == loop {
                // Inside a loop: what it reads in the same iteration, or anything of the iteration before.
                if reads.contains(other.stage), other.iteration == unit.iteration { return true }
                return (other.iteration ?? 1) == (unit.iteration ?? 1) - 1
            }
            if reads.contains(other.stage) { return true }
            // A stage that reads a loop's stage waits for the whole loop: its last iteration of every member.
            guard let otherLoop else { return false }
            return reads.contains { loops[$0] == otherLoop }
        }
    }

    // MARK: - Drawing

    static let labelWidth = 230.0, plotWidth = 860.0, rowHeight = 20.0, top = 28.0

    func svg() -> String {
        let shown = units.prefix(Self.maxRows)
        let rows = shown.reduce(0) { $0 + 1 + $1.lanes }
        let height = Self.top + Double(rows) * Self.rowHeight + 10
        let width = Self.labelWidth + Self.plotWidth + 20
        var svg = """
            <svg class="timeline" width="\(HTML.number(width))" \
            height="\(HTML.number(height))" viewBox="0 0 \(HTML.number(width)) \(HTML.number(height))" role="img">\n
            """
        let step = Self.tickStep(total)
        var tick = 0.0
        while tick <= total + step / 2 {
            let x = Self.labelWidth + tick / total * Self.plotWidth
            svg += "<line class=\"tick\" x1=\"\(HTML.number(x))\" y1=\"\(HTML.number(Self.top - 6))\" x2=\"\(HTML.number(x))\" "
                + "y2=\"\(HTML.number(height - 8))\"/><text class=\"tick-label\" x=\"\(HTML.number(x))\" y=\"14\" "
                + "text-anchor=\"middle\">\(HTML.escape(DurationFormat.short(.milliseconds(Int((tick * 1000).rounded())))))</text>\n"
            tick += step
        }
        var row = 0
        for unit in shown {
            let y = Self.top + Double(row) * Self.rowHeight
            row += 1 + unit.lanes
            let x1 = x(unit.start), x2 = max(x(unit.end), x(unit.start) + 2)
            let classes = ["unit", unit.status] + (unit.critical ? ["critical"] : [])
            let waited = unit.calls.map(\.start).min().map { max(0, $0 - unit.start) } ?? 0
            let summary = "\(unit.id): \(unit.status), \(DurationFormat.short(duration(unit.end - unit.start)))"
                + (waited > 0.0005 ? ", waited \(DurationFormat.short(duration(waited))) before its first call" : "")
                + (unit.critical ? ", on the critical path" : "")
            svg += "<g class=\"\(classes.joined(separator: " "))\" data-unit=\"\(HTML.escape(unit.id))\">"
                + "<text class=\"unit-label\" x=\"\(HTML.number(Self.labelWidth - 8))\" y=\"\(HTML.number(y + 14))\" "
                + "text-anchor=\"end\">\(unit.critical ? "★ " : "")\(HTML.escape(DAGPicture.fit(unit.id, 30)))</text>"
                + "<rect class=\"span\" x=\"\(HTML.number(x1))\" y=\"\(HTML.number(y + 3))\" "
                + "width=\"\(HTML.number(x2 - x1))\" height=\"\(HTML.number(Self.rowHeight - 6))\">"
                + "<title>\(HTML.escape(summary))</title></rect>"
            let firstModel = unit.calls.first?.call.model
            for (call, start, end) in unit.calls {
                let fallback = call.model != firstModel
                let kind = [call.status.rawValue] + (fallback ? ["fallback"] : []) + (call.attempt > 1 ? ["retry"] : [])
                let title = "\(unit.id) attempt \(call.attempt): \(call.modelName) (\(call.model)), \(call.status.rawValue), "
                    + DurationFormat.short(call.latency) + (fallback ? ", fallback" : "")
                    + (call.problems.isEmpty ? "" : ": " + call.problems.joined(separator: "; "))
                let a = x(max(0, start)), b = max(x(end), a + 2)
                svg += "<rect class=\"attempt \(kind.joined(separator: " "))\" data-unit=\"\(HTML.escape(unit.id))\" "
                    + "data-attempt=\"\(call.attempt)\" x=\"\(HTML.number(a))\" y=\"\(HTML.number(y + 6))\" "
                    + "width=\"\(HTML.number(b - a))\" height=\"\(HTML.number(Self.rowHeight - 12))\">"
                    + "<title>\(HTML.escape(HTML.capped(title, 2000)))</title></rect>"
            }
            svg += tools(of: unit, below: y)
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }

    /// The unit's tool calls, each a thin bar named after its tool, on the rows under the unit's.
    private func tools(of unit: Unit, below y: Double) -> String {
        var svg = ""
        for tool in unit.tools {
            let call = tool.call
            let failed = call.error != nil || call.isError
            let top = y + Double(tool.lane + 1) * Self.rowHeight
            let a = x(max(0, tool.start)), b = max(x(tool.end), a + 2)
            let title = "\(unit.id) attempt \(call.attempt), turn \(call.turn): tool \(call.tool), "
                + DurationFormat.short(call.duration)
                + (call.error.map { ": " + $0 } ?? (call.isError ? ": the result went back as an error" : ""))
            svg += "<rect class=\"tool\(failed ? " failed" : "")\" data-unit=\"\(HTML.escape(unit.id))\" "
                + "data-attempt=\"\(call.attempt)\" data-tool=\"\(HTML.escape(call.tool))\" x=\"\(HTML.number(a))\" "
                + "y=\"\(HTML.number(top + 5))\" width=\"\(HTML.number(b - a))\" height=\"\(HTML.number(Self.rowHeight - 10))\">"
                + "<title>\(HTML.escape(HTML.capped(title, 2000)))</title></rect>"
                + "<text class=\"tool-label\(failed ? " failed" : "")\" x=\"\(HTML.number(b + 3))\" y=\"\(HTML.number(top + 14))\">"
                + "\(HTML.escape(DAGPicture.fit(call.tool, 40))) \(HTML.escape(DurationFormat.short(call.duration)))</text>"
        }
        return svg
    }

    private func x(_ seconds: Double) -> Double {
        Self.labelWidth + max(0, min(seconds, total)) / total * Self.plotWidth
    }

    private func duration(_ seconds: Double) -> Duration { .milliseconds(Int((max(0, seconds) * 1000).rounded())) }

    /// A round step giving 5 to 10 ticks.
    static func tickStep(_ total: Double) -> Double {
        let raw = total / 8
        let power = pow(10, floor(log10(raw)))
        for factor in [1.0, 2.0, 5.0, 10.0] where raw <= factor * power { return factor * power }
        return 10 * power
    }
}
