import Foundation

/// The table printed on stderr after a run: per stage its model, attempts, tokens, latency
/// and cost; then the totals and the wall time.
public enum RunSummary {
    public static func render(_ result: PipelineRunner.Result, order: [String]) -> String {
        let byName = Dictionary(result.stages.map { ($0.stage, $0) }, uniquingKeysWith: { _, last in last })
        var rows: [[String]] = [["stage", "status", "model", "attempts", "in", "out", "latency", "cost"]]
        for name in order {
            guard let report = byName[name] else {
                rows.append([name, "not run", "", "", "", "", "", ""])
                continue
            }
            rows.append([
                name, report.status.display, report.model.map { "\($0.name) (\($0.model))" } ?? report.withoutModel, String(report.attempts),
                String(report.usage.input), String(report.usage.output), DurationFormat.short(report.latency),
                report.costUSD.map(usd) ?? "-",
            ])
        }
        let attempts = result.stages.reduce(0) { $0 + $1.attempts }
        let priced = result.stages.contains { $0.costUSD != nil }
        rows.append([
            "total", "", "wall \(DurationFormat.short(result.wall))", String(attempts), String(result.usage.input),
            String(result.usage.output), "", priced ? usd(result.costUSD) : "-",
        ])
        return table(rows)
    }

    static func usd(_ value: Double) -> String {
        value >= 0.01 ? "$" + String(format: "%.2f", value) : "$" + String(format: "%.4f", value)
    }

    /// Left-aligned text columns, right-aligned numbers, two spaces apart.
    static func table(_ rows: [[String]], numericColumns numeric: Set<Int> = [3, 4, 5, 6, 7]) -> String {
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces
        }.joined(separator: "\n") + "\n"
    }
}
