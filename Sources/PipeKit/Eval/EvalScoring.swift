import Foundation

/// One line of a golden dataset: `{"input": ..., "expected": ...}`.
public struct EvalItem: Sendable {
    /// 0-based among the dataset's non-blank lines: the item of the eval's batch.
    public var index: Int
    /// 1-based line of the dataset file.
    public var line: Int
    public var input: JSONValue
    public var expected: JSONValue?
}

/// A golden dataset read whole: one item a non-blank line, every line checked before any
/// item runs (a problem names the dataset's file, line and column).
public enum EvalDataset {
    /// Past this many items, the dataset is refused.
    public static let maxItems = 1_000_000
    static let keys = ["input", "expected"]

    /// Why the dataset cannot be used: each bad line.
    public struct Problems: Error, Sendable {
        public var diagnostics: [Diagnostic]
    }

    public static func read(_ source: SourceFile) -> Result<[EvalItem], Problems> {
        var items: [EvalItem] = []
        var problems: [Diagnostic] = []
        let lines = String(decoding: source.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (offset, text) in lines.enumerated() {
            let line = offset + 1
            let trimmed = text.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
            if trimmed.isEmpty { continue }
            let at = Span(file: source.path, start: SourcePosition(line: line, column: 1), end: SourcePosition(line: line, column: 2))
            guard items.count < maxItems else {
                problems.append(Diagnostic(.invalidValue, at: at, "more than \(maxItems) items", hint: "split the dataset"))
                break
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(String(trimmed))
            } catch {
                problems.append(Diagnostic(.typeMismatch, at: at, "not JSON: \(error)", hint: #"each line is {"input": ..., "expected": ...}"#))
                continue
            }
            guard case .object(let object) = value, let input = object["input"] else {
                problems.append(Diagnostic(.missingKey, at: at, "the line has no `input`", hint: #"each line is {"input": ..., "expected": ...}"#))
                continue
            }
            if let unknown = object.keys.first(where: { !keys.contains($0) }) {
                problems.append(Diagnostic(.unknownKey, at: at, "unknown key `\(unknown)` in a dataset line",
                    hint: Suggestions.hint(for: unknown, in: keys, kind: "keys allowed")))
                continue
            }
            items.append(EvalItem(index: items.count, line: line, input: input, expected: object["expected"]))
        }
        if items.isEmpty, problems.isEmpty {
            problems.append(Diagnostic(.emptySpec, at: .fileStart(source.path), "the dataset has no items", hint: #"write one {"input": ..., "expected": ...} a line"#))
        }
        return problems.isEmpty ? .success(items) : .failure(Problems(diagnostics: problems))
    }
}

/// How one evaluator judged one item.
public struct EvalScore: Sendable, Hashable {
    public var item: Int
    public var evaluator: String
    public var pass: Bool
    /// The judge's `score`, when its answer has one.
    public var score: Double?
    /// Why it failed (or the judge's `reason`).
    public var reason: String?
    /// The judge's tokens and cost (zero for a check).
    public var usage: TokenUsage = .zero
    public var costUSD: Double = 0

    public init(item: Int, evaluator: String, pass: Bool, score: Double? = nil, reason: String? = nil,
                usage: TokenUsage = .zero, costUSD: Double = 0) {
        self.item = item
        self.evaluator = evaluator
        self.pass = pass
        self.score = score
        self.reason = reason
        self.usage = usage
        self.costUSD = costUSD
    }
}

/// A judge compiled as a one-stage pipeline of the spec's models: its stage `judge` runs with
/// the spec's `defaults`, its model and the judge's settings, and reads the rendered prompt as
/// its input. Runs through the same runner as any stage (schema validation, re-asks, retries,
/// fallbacks, rate limits).
public enum JudgePipeline {
    public static let stage = "judge"

    /// The judge's spec text (JSON, which YAML reads), with the measured spec's `models:`
    /// and `defaults:`.
    public static func specText(_ judge: EvaluatorSpec.Judge, name: String, specRoot: YAMLNode) -> String {
        var stage = JSONObject()
        stage["model"] = .string(judge.model.value)
        stage["prompt"] = "{{ input }}"
        stage["output"] = .object(JSONObject([("schema", judge.schema.value)]))
        for (key, value) in judge.settings { stage[key] = value }
        var spec = JSONObject()
        spec["version"] = 1
        spec["name"] = .string("judge-\(name)")
        if let models = specRoot["models"] { spec["models"] = models.json }
        if let defaults = specRoot["defaults"] { spec["defaults"] = defaults.json }
        spec["stages"] = .object(JSONObject([(Self.stage, .object(stage))]))
        return JSONValue.object(spec).serialized()
    }

    /// Compiles it; `directory` is where a schema file path starts (the test file's).
    public static func compile(_ judge: EvaluatorSpec.Judge, name: String, specRoot: YAMLNode, testFile: String, directory: String) -> Compiler.Result {
        let text = specText(judge, name: name, specRoot: specRoot)
        return Compiler.compile(SourceFile(path: "\(testFile) (judge \(name))", bytes: Array(text.utf8)), directory: directory)
    }
}

/// Scores items: checks in place, judges through their runners.
public struct EvalScorer: Sendable {
    public var evaluators: [EvaluatorSpec]
    /// The judges' runners by evaluator name.
    public var judges: [String: PipelineRunner]

    public init(evaluators: [EvaluatorSpec], judges: [String: PipelineRunner]) {
        self.evaluators = evaluators
        self.judges = judges
    }

    /// Every evaluator's score of one item; `output` nil: the pipeline failed with `failure`.
    public func score(_ item: EvalItem, output: JSONValue?, failure: String?) async -> [EvalScore] {
        var scores: [EvalScore] = []
        for evaluator in evaluators {
            let name = evaluator.name.value
            guard let output else {
                scores.append(EvalScore(item: item.index, evaluator: name, pass: false, reason: "the pipeline failed: \(failure ?? "no output")"))
                continue
            }
            let values = EvalValues.renderer(input: item.input, output: output, expected: item.expected)
            switch evaluator.kind {
            case .check(let check):
                let failures = check.matcher.rendered(by: values).check(values.value(of: check.path), path: check.path.description)
                scores.append(EvalScore(item: item.index, evaluator: name, pass: failures.isEmpty,
                    reason: failures.isEmpty ? nil : failures.map(\.description).joined(separator: "; ")))
            case .judge(let judge):
                guard let runner = judges[name] else { continue }
                scores.append(await Self.judge(judge, runner: runner, prompt: values.render(judge.prompt), item: item.index, name: name))
            }
        }
        return scores
    }

    static func judge(_ judge: EvaluatorSpec.Judge, runner: PipelineRunner, prompt: String, item: Int, name: String) async -> EvalScore {
        let result = await runner.run(input: .string(prompt))
        var score = EvalScore(item: item, evaluator: name, pass: false, usage: result.usage, costUSD: result.costUSD)
        guard case .succeeded = result.outcome, let answer = result.values[JudgePipeline.stage] else {
            score.reason = "the judge failed: " + (ItemResult(index: item, runID: nil, result).error ?? "no answer")
            return score
        }
        score.score = answer["score"]?.numberValue?.doubleValue
        let said = answer["reason"]?.stringValue
        guard let pass = judge.pass else {
            score.pass = true
            score.reason = said
            return score
        }
        let fields = TemplateRenderer(values: answer.objectValue.map { Dictionary($0.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) } ?? [:])
        score.pass = ExpressionEvaluator.holds(pass) { fields.value(of: $0) }
        if score.pass {
            score.reason = said
        } else {
            let scored = score.score.map { "score \(EvalScoreboard.number($0)); " } ?? ""
            score.reason = "`\(pass)` does not hold (\(scored)\(said.map { "reason: \($0)" } ?? renderForMessage(answer)))"
        }
        return score
    }
}

extension Matcher {
    /// The matcher with the templates of its expected values rendered (`"{{ expected.verdict }}"`):
    /// a value that is one reference keeps its JSON type.
    func rendered(by renderer: TemplateRenderer) -> Matcher {
        mapValues { Self.templates(in: $0) { renderer.evaluate($0) } }
    }

    /// Whether an expected value holds a template (it is then known only per item).
    var hasTemplates: Bool {
        var found = false
        _ = mapValues { value in Self.templates(in: value) { _ in found = true; return .null } }
        return found
    }

    /// `value` with each string that holds `{{ ... }}` replaced by `fill` of its template.
    static func templates(in value: JSONValue, _ fill: (Template) -> JSONValue) -> JSONValue {
        switch value {
        case .string(let text) where text.contains("{{"):
            var sink = DiagnosticSink()
            let span = Span.fileStart("")
            guard let template = TemplateParser(file: "", openings: [], fallback: span.start).parse(text, span: span, diagnostics: &sink)
            else { return value }
            return fill(template)
        case .array(let items): return .array(items.map { templates(in: $0, fill) })
        case .object(let object): return .object(JSONObject(object.map { ($0.key, templates(in: $0.value, fill)) }))
        default: return value
        }
    }
}
