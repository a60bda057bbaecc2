import Foundation

/// `pipe report BATCH`: counts by status, the distributions of the items' latencies and costs
/// (SVG histograms), the slowest and most expensive items, the failures with their errors, and
/// a compact per-item table. Its size is bounded whatever the batch's: at most `maxItemRows`
/// rows and `maxFailures` failures are listed, and the page says so; each item's own run has
/// its report (`pipe report RUN`).
public enum BatchReport {
    static let maxItemRows = 1000
    static let maxFailures = 200
    static let top = 10

    public static func page(_ data: BatchReportData) -> ReportPage {
        let info = data.info
        var sections: [any ReportSection] = [
            MadeSection(title: "Summary", anchor: "summary", body: summary(data)),
            MadeSection(title: "Distributions", anchor: "distributions", body: distributions(data)),
            MadeSection(title: "Slowest and most expensive", anchor: "top", body: topItems(data)),
            MadeSection(title: "Failures", anchor: "failures", body: failures(data)),
            MadeSection(title: "Items", anchor: "items", body: items(data)),
        ]
        if data.pipeline != nil {
            sections.insert(MadeSection(title: "DAG", anchor: "dag", body:
                "<div class=\"scroll\">\(DAGPicture(statuses: nil, pipeline: data.pipeline).svg())</div>"), at: 1)
        }
        return ReportPage(
            title: "Batch \(info.id): \(info.pipelineName)",
            subtitle: "\(info.counts.total) items, created \(StoreTime.text(info.createdAt))" + (info.sealed ? "" : ", still being enqueued"),
            sections: sections)
    }

    static func seconds(_ item: ItemResult, _ data: BatchReportData) -> Double? {
        item.runID.flatMap { data.durations[$0] }?.seconds
    }

    static func summary(_ data: BatchReportData) -> String {
        let counts = data.info.counts
        let total = max(counts.total, 1)
        let colours: [ItemStatus: String] = [
            .succeeded: "#2e7d32", .failed: "#c62828", .invalidInput: "#ef6c00", .running: "#1565c0", .pending: "#9e9e9e",
        ]
        var html = "<table class=\"grid counts\"><thead><tr><th>status</th><th class=\"num\">items</th><th></th></tr></thead><tbody>"
        for status in ItemStatus.allCases {
            let count = counts[status]
            html += "<tr data-status=\"\(status.rawValue)\"><td>\(status.rawValue)</td><td class=\"num\">\(count)</td>"
                + "<td><span class=\"bar\" style=\"width:\(count * 400 / total)px;background:\(colours[status] ?? "#999")\"></span></td></tr>"
        }
        html += "</tbody></table>"
        let usage = data.results.reduce(TokenUsage.zero) { TokenUsage(input: $0.input + $1.usage.input, output: $0.output + $1.usage.output) }
        let costs = data.results.compactMap(\.costUSD)
        html += ReportPage.fields([
            ("batch", HTML.escape(data.info.id)),
            ("spec", HTML.escape(data.info.specPath)),
            ("tokens", "\(usage.input) in, \(usage.output) out"),
            ("cost", HTML.escape(costs.isEmpty ? "-" : ReportPage.usd(costs.reduce(0, +)))),
        ])
        return html
    }

    static func distributions(_ data: BatchReportData) -> String {
        let latencies = data.results.compactMap { seconds($0, data) }
        let costs = data.results.compactMap(\.costUSD)
        return "<h3>Latency of the items' runs</h3>"
            + Histogram(values: latencies, unit: { DurationFormat.short(.milliseconds(Int(($0 * 1000).rounded()))) }).svg(name: "latency")
            + "<h3>Cost of the items</h3>" + (costs.isEmpty ? "<p class=\"note\">Costs need a <code>price</code> on the spec's models.</p>" : "")
            + Histogram(values: costs, unit: { RunSummary.usd($0) }).svg(name: "cost")
    }

    static func topItems(_ data: BatchReportData) -> String {
        let slowest = data.results.compactMap { item in seconds(item, data).map { (item, $0) } }
            .sorted { $0.1 > $1.1 }.prefix(top)
        let priciest = data.results.compactMap { item in item.costUSD.map { (item, $0) } }
            .sorted { $0.1 > $1.1 }.prefix(top)
        return "<h3>Slowest</h3>" + itemTable(slowest.map(\.0), data)
            + "<h3>Most expensive</h3>" + itemTable(priciest.map(\.0), data)
    }

    static func failures(_ data: BatchReportData) -> String {
        let failed = data.results.filter { $0.status == .failed || $0.status == .invalidInput }
        guard !failed.isEmpty else { return "<p>No item failed.</p>" }
        var html = failed.count > maxFailures
            ? "<p class=\"note\">The first \(maxFailures) of \(failed.count) failures are listed.</p>" : ""
        html += itemTable(Array(failed.prefix(maxFailures)), data, errorLength: 2000)
        return html
    }

    static func items(_ data: BatchReportData) -> String {
        var html = data.results.count > maxItemRows
            ? "<p class=\"note\">The first \(maxItemRows) of \(data.results.count) ended items are listed (a report's size is "
                + "bounded); <code>pipe logs</code> and <code>pipe report RUN</code> show any item's run.</p>"
            : ""
        html += itemTable(Array(data.results.prefix(maxItemRows)), data)
        return html
    }

    /// Items as rows: index, status, run, latency, tokens, cost, failed stage, error.
    static func itemTable(_ items: [ItemResult], _ data: BatchReportData, errorLength: Int = 200) -> String {
        guard !items.isEmpty else { return "<p class=\"note\">None.</p>" }
        let rows = items.map { item in
            [
                "\(item.index)",
                "<span class=\"status-\(item.status.rawValue)\">\(item.status.rawValue)</span>",
                item.runID.map { "<code>\(HTML.escape($0))</code>" } ?? "-",
                HTML.escape(seconds(item, data).map { DurationFormat.short(.milliseconds(Int(($0 * 1000).rounded()))) } ?? "-"),
                "\(item.usage.input)/\(item.usage.output)", HTML.escape(ReportPage.usd(item.costUSD)),
                HTML.escape(item.stage ?? ""), HTML.escape(HTML.capped(item.error ?? "", errorLength)),
            ]
        }
        return ReportPage.table(
            ["item", "status", "run", "latency", "tokens in/out", "cost", "stage", "error"], rows,
            classes: items.map { $0.status == .succeeded ? "" : "failed" })
    }
}

/// A distribution as an SVG bar chart: 20 bins from the smallest value to the largest, each
/// with its count in a tooltip, and the median and 95th percentile under it.
struct Histogram {
    var values: [Double]
    var unit: (Double) -> String
    static let bins = 20, width = 640.0, height = 160.0

    func svg(name: String) -> String {
        guard let low = values.min(), let high = values.max() else {
            return "<p class=\"note\" data-histogram=\"\(name)\">No item has one.</p>"
        }
        var counts = Array(repeating: 0, count: Self.bins)
        let span = high - low
        for value in values {
            let bin = span > 0 ? min(Self.bins - 1, Int((value - low) / span * Double(Self.bins))) : 0
            counts[bin] += 1
        }
        let most = Double(max(counts.max() ?? 1, 1))
        let barWidth = Self.width / Double(Self.bins)
        var svg = "<svg class=\"histogram\" data-histogram=\"\(name)\" width=\"\(HTML.number(Self.width + 20))\" "
            + "height=\"\(HTML.number(Self.height + 40))\" role=\"img\">"
        for (index, count) in counts.enumerated() where count > 0 {
            let barHeight = Double(count) / most * Self.height
            let from = low + span * Double(index) / Double(Self.bins), to = low + span * Double(index + 1) / Double(Self.bins)
            svg += "<rect x=\"\(HTML.number(10 + Double(index) * barWidth))\" y=\"\(HTML.number(10 + Self.height - barHeight))\" "
                + "width=\"\(HTML.number(barWidth - 2))\" height=\"\(HTML.number(barHeight))\">"
                + "<title>\(HTML.escape("\(unit(from)) to \(unit(to)): \(count) items"))</title></rect>"
        }
        svg += "<line class=\"axis\" x1=\"10\" y1=\"\(HTML.number(10 + Self.height))\" x2=\"\(HTML.number(10 + Self.width))\" "
            + "y2=\"\(HTML.number(10 + Self.height))\"/>"
            + "<text x=\"10\" y=\"\(HTML.number(Self.height + 28))\">\(HTML.escape(unit(low)))</text>"
            + "<text x=\"\(HTML.number(10 + Self.width))\" y=\"\(HTML.number(Self.height + 28))\" text-anchor=\"end\">"
            + "\(HTML.escape(unit(high)))</text></svg>"
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2], p95 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.95))]
        return svg + "<p>\(values.count) items; median \(HTML.escape(unit(median))), 95th percentile \(HTML.escape(unit(p95))), "
            + "most \(HTML.escape(unit(high))).</p>"
    }
}
