import Foundation

/// The DAG as an SVG drawn by pipe itself: a layered layout by dependency depth (the input
/// first, each stage one column right of the deepest stage it reads, the output last), stages
/// as boxes with their model, edges as curves, loops as a dashed edge back with their bound,
/// fan-outs with their item count. A run's statuses colour the boxes: failed red, skipped and
/// not run grey.
struct DAGPicture {
    /// How a stage ended in the run, for its colour; nil for a batch (no one run).
    var statuses: [String: StageStatusSummary]?
    var pipeline: CompiledPipeline?
    /// The stages, when there is no pipeline: the recorded ones, in the order they ended.
    var recordedStages: [String] = []

    static let boxWidth = 200.0, boxHeight = 70.0, columnGap = 70.0, rowGap = 22.0, margin = 20.0

    struct Node {
        var name: String
        var lines: [String]
        var layer: Int
        var row = 0
        var kind: Kind
        enum Kind { case terminal, stage }
    }

    func svg() -> String {
        var nodes: [Node] = []
        var edges: [(from: String, to: String)] = []
        if let pipeline {
            let graph = GraphRenderer(pipeline: pipeline)
            var layers: [String: Int] = ["input": 0]
            nodes.append(Node(name: "input", lines: ["input"], layer: 0, kind: .terminal))
            for stage in pipeline.stages {
                let layer = 1 + (stage.dependencies.compactMap { layers[$0] }.max() ?? 0)
                layers[stage.name] = layer
                nodes.append(Node(name: stage.name, lines: lines(stage, graph), layer: layer, kind: .stage))
                edges += stage.dependencies.map { ($0, stage.name) }
            }
            edges += graph.inputReaders.map { ("input", $0) }
            nodes.append(Node(name: "output", lines: ["output"], layer: (layers.values.max() ?? 0) + 1, kind: .terminal))
            edges += graph.outputSources.map { ($0, "output") }
        } else {
            for (index, name) in recordedStages.enumerated() {
                nodes.append(Node(name: name, lines: [name] + (statuses?[name]?.lines ?? []), layer: index, kind: .stage))
            }
        }
        var rows: [Int: Int] = [:]
        for index in nodes.indices {
            nodes[index].row = rows[nodes[index].layer, default: 0]
            rows[nodes[index].layer, default: 0] += 1
        }
        var places: [String: (x: Double, y: Double)] = [:]
        for node in nodes {
            places[node.name] = (
                Self.margin + Double(node.layer) * (Self.boxWidth + Self.columnGap),
                Self.margin + Double(node.row) * (Self.boxHeight + Self.rowGap))
        }
        let columns = (nodes.map(\.layer).max() ?? 0) + 1
        let loopRoom = (pipeline?.loops.isEmpty ?? true) ? 0.0 : 50.0
        let width = 2 * Self.margin + Double(columns) * (Self.boxWidth + Self.columnGap) - Self.columnGap
        let height = 2 * Self.margin + Double(rows.values.max() ?? 1) * (Self.boxHeight + Self.rowGap) + loopRoom

        var svg = """
            <svg class="dag" width="\(HTML.number(width))" \
            height="\(HTML.number(height))" viewBox="0 0 \(HTML.number(width)) \(HTML.number(height))" role="img">
            <defs><marker id="dag-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" \
            orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>\n
            """
        for edge in edges {
            guard let from = places[edge.from], let to = places[edge.to] else { continue }
            let x1 = from.x + Self.boxWidth, y1 = from.y + Self.boxHeight / 2
            let x2 = to.x, y2 = to.y + Self.boxHeight / 2
            let bend = max(30, (x2 - x1) / 2)
            svg += "<path class=\"edge\" data-from=\"\(HTML.escape(edge.from))\" data-to=\"\(HTML.escape(edge.to))\" "
                + "d=\"M\(HTML.number(x1)),\(HTML.number(y1)) C\(HTML.number(x1 + bend)),\(HTML.number(y1)) "
                + "\(HTML.number(x2 - bend)),\(HTML.number(y2)) \(HTML.number(x2)),\(HTML.number(y2))\" "
                + "marker-end=\"url(#dag-arrow)\"/>\n"
        }
        for loop in pipeline?.loops ?? [] {
            guard let end = places[loop.end], let from = places[loop.from] else { continue }
            let x1 = end.x + Self.boxWidth / 2, x2 = from.x + Self.boxWidth / 2
            let y = max(end.y, from.y) + Self.boxHeight
            let low = height - loopRoom / 2 - 6
            let ran = statuses?[loop.end]?.iterations.map { ", ran \($0)×" } ?? ""
            let label = "loop " + (loop.until.map { "until \($0), " } ?? "") + "at most \(loop.maxIterations)×" + ran
            svg += "<path class=\"loop-edge\" data-from=\"\(HTML.escape(loop.end))\" data-to=\"\(HTML.escape(loop.from))\" "
                + "d=\"M\(HTML.number(x1)),\(HTML.number(end.y + Self.boxHeight)) C\(HTML.number(x1)),\(HTML.number(low)) "
                + "\(HTML.number(x2)),\(HTML.number(low)) \(HTML.number(x2)),\(HTML.number(y))\" marker-end=\"url(#dag-arrow)\"/>\n"
                + "<text class=\"loop-label\" x=\"\(HTML.number((x1 + x2) / 2))\" y=\"\(HTML.number(low + 14))\" "
                + "text-anchor=\"middle\">\(HTML.escape(label))</text>\n"
        }
        for node in nodes {
            guard let place = places[node.name] else { continue }
            let status = node.kind == .terminal ? "terminal" : statuses.map { $0[node.name]?.status ?? "notrun" } ?? "planned"
            let lines = node.lines
            svg += "<g class=\"node \(status)\" data-stage=\"\(HTML.escape(node.name))\">"
                + "<title>\(HTML.escape(lines.joined(separator: "\n")))</title>"
                + "<rect x=\"\(HTML.number(place.x))\" y=\"\(HTML.number(place.y))\" width=\"\(HTML.number(Self.boxWidth))\" "
                + "height=\"\(HTML.number(Self.boxHeight))\" rx=\"\(node.kind == .terminal ? 26 : 6)\"/>"
            for (index, line) in lines.prefix(4).enumerated() {
                svg += "<text x=\"\(HTML.number(place.x + 8))\" y=\"\(HTML.number(place.y + 17 + Double(index) * 15))\""
                    + (index == 0 ? " class=\"name\"" : "") + ">\(HTML.escape(Self.fit(line, index == 0 ? 24 : 30)))</text>"
            }
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }

    /// What `pipe graph` writes under a stage, and the items its `for_each` ran.
    private func lines(_ stage: CompiledStage, _ graph: GraphRenderer) -> [String] {
        [stage.name, graph.what(stage)] + graph.notes(stage)
            + (stage.forEach != nil ? statuses?[stage.name]?.items.map { ["× \($0) items"] } ?? [] : [])
    }

    static func fit(_ text: String, _ length: Int) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count <= length ? line : String(line.prefix(length - 1)) + "…"
    }
}

/// How a stage (all its iterations and items) ended in a run, for the DAG.
struct StageStatusSummary {
    /// `succeeded`, `failed`, `skipped`, `cancelled`, `waiting`, `reused`.
    var status: String
    /// How many `for_each` items ran; nil for a stage without items.
    var items: Int?
    /// How many loop iterations ran; nil outside a loop.
    var iterations: Int?
    var model: String?

    var lines: [String] {
        (model.map { [$0] } ?? []) + (items.map { ["\($0) items"] } ?? []) + (iterations.map { ["\($0) iterations"] } ?? [])
    }

    /// Each stage's summary from a run's stage rows: the status of its last whole row (the
    /// last iteration, the `for_each` as a whole), else of its last row.
    static func summaries(_ rows: [StageRow]) -> [String: StageStatusSummary] {
        var grouped: [String: [(unit: RunUnitID, row: StageRow)]] = [:]
        for row in rows {
            let unit = RunUnitID(row.stage) ?? RunUnitID(stage: row.stage)
            grouped[unit.stage, default: []].append((unit, row))
        }
        return grouped.mapValues { units in
            let whole = units.last { $0.unit.item == nil } ?? units[units.count - 1]
            let items = Set(units.compactMap(\.unit.item))
            let iterations = units.compactMap(\.unit.iteration).max()
            let modelRow = units.last { !$0.row.model.isEmpty }?.row
            return StageStatusSummary(
                status: whole.row.status.rawValue, items: items.isEmpty ? nil : items.count, iterations: iterations,
                model: modelRow.map { [StageReport.command, StageReport.pipeline].contains($0.provider) ? $0.provider : "\($0.modelName): \($0.model)" })
        }
    }
}
