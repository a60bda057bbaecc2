import Foundation

/// What an eval found: per evaluator, its pass rate, mean score and failed items; tokens and
/// cost of the pipeline and of the judges apart; the pass rates not met.
public struct EvalScoreboard: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var kind: String
        public var passed: Int
        public var total: Int
        public var meanScore: Double?
        /// The failed items: dataset line and why.
        public var failures: [(item: Int, line: Int, reason: String)]
        public var minPassRate: Double?
        public var passRate: Double { total == 0 ? 0 : Double(passed) / Double(total) }
        public var met: Bool { minPassRate.map { passRate >= $0 } ?? true }
    }

    public var id: String
    public var rows: [Row]
    public var items: Int
    /// Items whose pipeline run failed.
    public var pipelineFailures: Int
    public var pipelineUsage: TokenUsage
    public var pipelineCostUSD: Double
    public var judgeUsage: TokenUsage
    public var judgeCostUSD: Double
    /// Every score, by item then evaluator order.
    public var scores: [EvalScore]
    public var lines: [Int: Int]

    public var unmet: [Row] { rows.filter { !$0.met } }

    public init(id: String, file: EvalFile, items: [EvalItem], runs: [ItemResult], scores: [EvalScore]) {
        self.id = id
        self.items = items.count
        self.scores = scores
        lines = Dictionary(items.map { ($0.index, $0.line) }, uniquingKeysWith: { a, _ in a })
        pipelineFailures = runs.filter { $0.status != .succeeded }.count
        pipelineUsage = runs.reduce(.zero) { $0 + $1.usage }
        pipelineCostUSD = runs.reduce(0) { $0 + ($1.costUSD ?? 0) }
        judgeUsage = scores.reduce(.zero) { $0 + $1.usage }
        judgeCostUSD = scores.reduce(0) { $0 + $1.costUSD }
        let byEvaluator = Dictionary(grouping: scores, by: \.evaluator)
        let rates = Dictionary(file.minPassRates.map { ($0.name.value, $0.rate.value) }, uniquingKeysWith: { _, last in last })
        let lines = lines
        rows = file.evaluators.map { evaluator in
            let name = evaluator.name.value
            let mine = (byEvaluator[name] ?? []).sorted { $0.item < $1.item }
            let scored = mine.compactMap(\.score)
            let kind = if case .judge = evaluator.kind { "judge" } else { "check" }
            return Row(
                name: name, kind: kind, passed: mine.filter(\.pass).count, total: mine.count,
                meanScore: scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count),
                failures: mine.filter { !$0.pass }.map { ($0.item, lines[$0.item] ?? $0.item + 1, $0.reason ?? "failed") },
                minPassRate: rates[name])
        }
    }

    // MARK: - Text

    /// At most this many failed items are listed per evaluator in the text (json lists all).
    public static let failuresShown = 10

    public func text(dataset: String) -> String {
        var out = "eval \(id): \(items) item\(items == 1 ? "" : "s")"
        if pipelineFailures > 0 { out += ", \(pipelineFailures) failed in the pipeline" }
        out += "\n"
        for row in rows {
            out += "  \(row.name) (\(row.kind)): \(row.passed)/\(row.total) passed (\(Self.percent(row.passRate)))"
            if let mean = row.meanScore { out += ", mean score \(Self.number(mean))" }
            if let min = row.minPassRate { out += row.met ? ", min \(Self.percent(min)) met" : ", below min \(Self.percent(min))" }
            out += "\n"
            for failure in row.failures.prefix(Self.failuresShown) {
                out += "    \(dataset):\(failure.line): \(failure.reason)\n"
            }
            if row.failures.count > Self.failuresShown { out += "    ... \(row.failures.count - Self.failuresShown) more (--format json lists all)\n" }
        }
        out += "  pipeline: \(pipelineUsage.input) in / \(pipelineUsage.output) out tokens, \(RunLogText.usd(pipelineCostUSD))\n"
        out += "  judges: \(judgeUsage.input) in / \(judgeUsage.output) out tokens, \(RunLogText.usd(judgeCostUSD))\n"
        return out
    }

    public static func percent(_ rate: Double) -> String {
        let value = (rate * 1000).rounded() / 10
        return (value == value.rounded() ? String(Int(value)) : String(value)) + "%"
    }

    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String((value * 100).rounded() / 100)
    }

    // MARK: - JSON

    public func json(dataset: String) -> JSONValue {
        let evaluators: [JSONValue] = rows.map { row in
            var object: JSONObject = [
                "name": .string(row.name), "kind": .string(row.kind), "passed": .number(JSONNumber(row.passed)),
                "total": .number(JSONNumber(row.total)), "pass_rate": .number(JSONNumber(row.passRate)),
            ]
            object["mean_score"] = row.meanScore.map { .number(JSONNumber($0)) } ?? .null
            object["min_pass_rate"] = row.minPassRate.map { .number(JSONNumber($0)) } ?? .null
            object["met"] = .bool(row.met)
            object["failures"] = .array(row.failures.map {
                ["item": .number(JSONNumber($0.item)), "line": .number(JSONNumber($0.line)), "reason": .string($0.reason)]
            })
            return .object(object)
        }
        func usage(_ usage: TokenUsage, _ cost: Double) -> JSONValue {
            ["tokens": ["input": .number(JSONNumber(usage.input)), "output": .number(JSONNumber(usage.output))], "cost_usd": .number(JSONNumber(cost))]
        }
        return [
            "eval": .string(id), "dataset": .string(dataset), "items": .number(JSONNumber(items)),
            "pipeline_failures": .number(JSONNumber(pipelineFailures)),
            "evaluators": .array(evaluators),
            "pipeline": usage(pipelineUsage, pipelineCostUSD), "judges": usage(judgeUsage, judgeCostUSD),
            "unmet": .array(unmet.map { .string($0.name) }),
        ]
    }

    // MARK: - JUnit XML

    /// One `testsuite` a evaluator, one `testcase` an item, a `failure` for a failed one.
    public func junit(dataset: String) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = rows.reduce(0) { $0 + $1.failures.count }
        out += "<testsuites name=\"\(XMLText.escape("eval \(id)"))\" tests=\"\(scores.count)\" failures=\"\(failures)\">\n"
        let byEvaluator = Dictionary(grouping: scores, by: \.evaluator)
        for row in rows {
            out += "  <testsuite name=\"\(XMLText.escape(row.name))\" tests=\"\(row.total)\" failures=\"\(row.failures.count)\">\n"
            for score in (byEvaluator[row.name] ?? []).sorted(by: { $0.item < $1.item }) {
                let line = lines[score.item] ?? score.item + 1
                out += "    <testcase classname=\"\(XMLText.escape(row.name))\" name=\"\(XMLText.escape("\(dataset):\(line)"))\""
                if score.pass {
                    out += "/>\n"
                } else {
                    let reason = score.reason ?? "failed"
                    out += ">\n      <failure message=\"\(XMLText.escape(String(reason.prefix(500))))\">\(XMLText.escape(reason))</failure>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }
}

/// Per item and evaluator, what changed since an earlier eval: pass → fail is a regression,
/// fail → pass an improvement. Items are matched by their dataset line.
public struct EvalComparison: Sendable {
    public struct Change: Sendable, Hashable {
        public var line: Int
        public var evaluator: String
        public var reason: String?
    }

    public var previous: String
    public var regressions: [Change]
    public var improvements: [Change]

    /// - Parameter earlier: the earlier eval's results: (line, evaluator) → passed.
    public init(previous: String, earlier: [EvalRecord.Result], now: [EvalRecord.Result]) {
        self.previous = previous
        let before = Dictionary(earlier.map { ("\($0.line)\u{0}\($0.evaluator)", $0.pass) }, uniquingKeysWith: { a, _ in a })
        var regressions: [Change] = []
        var improvements: [Change] = []
        for result in now.sorted(by: { ($0.line, $0.evaluator) < ($1.line, $1.evaluator) }) {
            guard let was = before["\(result.line)\u{0}\(result.evaluator)"], was != result.pass else { continue }
            let change = Change(line: result.line, evaluator: result.evaluator, reason: result.reason)
            if was { regressions.append(change) } else { improvements.append(change) }
        }
        self.regressions = regressions
        self.improvements = improvements
    }

    public func text(dataset: String) -> String {
        var out = "compared with eval \(previous): \(regressions.count) regression\(regressions.count == 1 ? "" : "s"), \(improvements.count) improvement\(improvements.count == 1 ? "" : "s")\n"
        for change in regressions { out += "  regression \(change.evaluator) \(dataset):\(change.line): \(change.reason ?? "failed")\n" }
        for change in improvements { out += "  improvement \(change.evaluator) \(dataset):\(change.line)\n" }
        return out
    }

    public var json: JSONValue {
        func list(_ changes: [Change]) -> JSONValue {
            .array(changes.map { ["line": .number(JSONNumber($0.line)), "evaluator": .string($0.evaluator), "reason": $0.reason.map(JSONValue.string) ?? .null] })
        }
        return ["previous": .string(previous), "regressions": list(regressions), "improvements": list(improvements)]
    }
}
