/// The `evals:` half of a test file (`NAME.test.yaml`): the spec it measures, its evaluators
/// and the pass rates they must reach. `cases:` (`pipe test`) is read by its own decoder and
/// skipped here.
public struct EvalFile: Sendable {
    public var source: SourceFile
    /// `spec:`, as written (relative to the test file's directory).
    public var spec: Located<String>?
    public var evaluators: [EvaluatorSpec]
    /// `min_pass_rate:`, in written order.
    public var minPassRates: [(name: Located<String>, rate: Located<Double>)]
    /// Where `evals:` is written, for a file without evaluators.
    public var evalsSpan: Span?

    public func evaluator(named name: String) -> EvaluatorSpec? { evaluators.first { $0.name.value == name } }
}

/// One evaluator of `evals:`: a check of the item's values, or an LLM judge.
public struct EvaluatorSpec: Sendable {
    public var name: Located<String>
    public var kind: Kind

    public enum Kind: Sendable {
        case check(Check)
        case judge(Judge)
    }

    /// `check: { path: output.title, length: { ">=": 5 } }`.
    public struct Check: Sendable {
        /// Rooted at `input`, `output` or `expected`.
        public var path: TemplateReference
        /// Its string values may hold templates (`"{{ expected.verdict }}"`), rendered per item.
        public var matcher: Matcher
        /// The matcher's keys, for lint's typing.
        public var matcherSpan: Span
    }

    /// `judge: { model, prompt, output: { schema }, pass }`: a one-stage pipeline run per item.
    public struct Judge: Sendable {
        public var model: Located<String>
        /// Rendered against `{ input, output, expected }`; the judge stage's prompt.
        public var prompt: Template
        /// The judge stage's output schema, as written (inline, or a file path beside the test file).
        public var schema: Located<JSONValue>
        /// Over the judge's output fields (`score >= 7`); nil: passes when the judge answered.
        public var pass: Expression?
        /// Other stage settings passed through to the judge stage (`retries`, `fallbacks`,
        /// `max_tokens`, `temperature`, `timeout`, `mock`).
        public var settings: [(key: String, value: JSONValue)]
    }
}

/// Decodes the `spec:`, `evals:` and `min_pass_rate:` keys of a test file, every problem at
/// its span; reuses the spec decoder's scalar readers so messages read the same.
public enum EvalFileDecoder {
    public static let topLevel = ["spec", "cases", "evals", "min_pass_rate"]
    static let evaluatorKeys = ["name", "check", "judge"]
    static let judgeKeys = ["model", "prompt", "output", "pass"] + passedThrough
    static let passedThrough = ["retries", "fallbacks", "max_tokens", "temperature", "timeout", "mock"]
    /// At most this many evaluators a file: each runs once per item.
    public static let maxEvaluators = 100

    public static func decode(_ source: SourceFile) -> (file: EvalFile?, diagnostics: [Diagnostic]) {
        var sink = DiagnosticSink()
        guard let root = YAMLLoader().load(source, diagnostics: &sink), !root.isNull else {
            if !sink.hasErrors {
                sink.report(.emptySpec, at: .fileStart(source.path), "the test file is empty",
                    hint: "write `spec: NAME.yaml` and an `evals:` list")
            }
            return (nil, sink.sorted)
        }
        var decoder = SpecDecoder(source: source, diagnostics: sink)
        var file = EvalFile(source: source, spec: nil, evaluators: [], minPassRates: [])
        guard let pairs = decoder.mapping(root, what: "a test file") else { return (nil, decoder.diagnostics.sorted) }
        decoder.checkKeys(pairs, allowed: topLevel, in: "the test file")
        for pair in pairs {
            switch pair.key.scalar {
            case "spec": file.spec = decoder.nonEmptyString(pair.value, key: "spec")
            case "evals":
                file.evalsSpan = pair.key.span
                file.evaluators = evaluators(pair.value, decoder: &decoder)
            case "min_pass_rate":
                guard let rates = decoder.mapping(pair.value, what: "`min_pass_rate`") else { continue }
                for rate in rates {
                    guard let name = decoder.key(rate), let value = decoder.number(rate.value, key: name.value) else { continue }
                    file.minPassRates.append((name, value))
                }
            default: break
            }
        }
        if file.evalsSpan == nil {
            decoder.report(.missingKey, at: root.span, "the test file has no `evals:`",
                hint: "add `evals:`, a list of `- name: ...` with `check:` or `judge:`")
        }
        return (decoder.diagnostics.hasErrors ? nil : file, decoder.diagnostics.sorted)
    }

    static func evaluators(_ node: YAMLNode, decoder: inout SpecDecoder) -> [EvaluatorSpec] {
        guard let items = node.sequence else {
            decoder.typeMismatch(node, key: "evals", expected: "a list of evaluators", hint: "write `evals:` then `- name: ...` lines")
            return []
        }
        if items.count > maxEvaluators {
            decoder.report(.invalidValue, at: node.span, "\(items.count) evaluators; at most \(maxEvaluators)", hint: "split the file")
            return []
        }
        var evaluators: [EvaluatorSpec] = []
        var seen: [String: Span] = [:]
        for item in items {
            guard let pairs = decoder.mapping(item, what: "an evaluator") else { continue }
            decoder.checkKeys(pairs, allowed: evaluatorKeys, in: "an evaluator")
            guard let nameNode = item["name"] else {
                decoder.report(.missingKey, at: item.span, "an evaluator has no `name`", hint: "add `name: has-title`")
                continue
            }
            guard let name = decoder.nonEmptyString(nameNode, key: "name") else { continue }
            if let first = seen[name.value] {
                decoder.report(.invalidValue, at: name.span, "a second evaluator is named `\(name.value)` (the first is at \(first.start))",
                    hint: "give each evaluator its own name")
                continue
            }
            seen[name.value] = name.span
            let check = item["check"], judge = item["judge"]
            switch (check, judge) {
            case (let check?, nil):
                if let decoded = self.check(check, decoder: &decoder) { evaluators.append(EvaluatorSpec(name: name, kind: .check(decoded))) }
            case (nil, let judge?):
                if let decoded = self.judge(judge, decoder: &decoder) { evaluators.append(EvaluatorSpec(name: name, kind: .judge(decoded))) }
            case (_?, _?):
                decoder.report(.invalidValue, at: name.span, "evaluator `\(name.value)` has both `check` and `judge`", hint: "make them two evaluators")
            case (nil, nil):
                decoder.report(.missingKey, at: name.span, "evaluator `\(name.value)` has neither `check` nor `judge`",
                    hint: "add `check: { path: output.title, contains: \"...\" }` or a `judge:`")
            }
        }
        return evaluators
    }

    /// A bare path (`output.title`), read as if written `{{ output.title }}`.
    static func path(_ node: YAMLNode, decoder: inout SpecDecoder) -> TemplateReference? {
        guard let text = decoder.string(node, key: "path") else { return nil }
        var quoted = false
        if case .scalar(_, let style) = node.kind { quoted = style == .singleQuoted || style == .doubleQuoted }
        let start = node.span.start.advanced(by: quoted ? 1 : 0)
        let parser = TemplateParser(file: decoder.source.path, openings: [start.advanced(by: -3)], fallback: start)
        guard let template = parser.parse("{{ \(text.value.trimmingSpaces) }}", span: node.span, diagnostics: &decoder.diagnostics) else { return nil }
        guard let reference = template.singleReference else {
            decoder.report(.typeMismatch, at: node.span, "`path` must name one value, such as `output.title`", hint: "write a path rooted at input, output or expected")
            return nil
        }
        guard EvalValues.roots.contains(reference.root.value) else {
            decoder.report(.unknownReference, at: reference.root.span, "`\(reference.root.value)` is not input, output or expected",
                hint: Suggestions.hint(for: reference.root.value, in: EvalValues.roots, kind: "a check reads"))
            return nil
        }
        return reference
    }

    static func check(_ node: YAMLNode, decoder: inout SpecDecoder) -> EvaluatorSpec.Check? {
        guard let pairs = decoder.mapping(node, what: "`check`") else { return nil }
        guard let pathNode = node["path"] else {
            decoder.report(.missingKey, at: node.span, "`check` has no `path`", hint: "name the value checked: `path: output.title`")
            return nil
        }
        let path = path(pathNode, decoder: &decoder)
        let rest = pairs.filter { $0.key.scalar != "path" }
        guard let first = rest.first else {
            decoder.report(.missingKey, at: node.span, "`check` has no matcher",
                hint: "add one of: \(Matcher.names.map { "`\($0)`" }.joined(separator: ", "))")
            return nil
        }
        guard let matcher = Matcher.decode(node, diagnostics: &decoder.diagnostics, ignoring: ["path"]), let path else { return nil }
        let end = rest.last.map(\.value.span.end) ?? first.key.span.end
        return EvaluatorSpec.Check(path: path, matcher: matcher, matcherSpan: Span(file: first.key.span.file, start: first.key.span.start, end: end))
    }

    static func judge(_ node: YAMLNode, decoder: inout SpecDecoder) -> EvaluatorSpec.Judge? {
        guard let pairs = decoder.mapping(node, what: "`judge`") else { return nil }
        decoder.checkKeys(pairs, allowed: judgeKeys, in: "`judge`")
        var ok = true
        for key in ["model", "prompt", "output"] where node[key] == nil {
            decoder.report(.missingKey, at: node.span, "`judge` has no `\(key)`",
                hint: key == "output" ? "give the judge's answer a schema: `output: { schema: { type: object, ... } }`" : "add `\(key):`")
            ok = false
        }
        let model = node["model"].flatMap { decoder.nonEmptyString($0, key: "model") }
        let prompt = node["prompt"].flatMap { decoder.template($0, key: "prompt") }
        var schema: Located<JSONValue>?
        if let output = node["output"], let outputPairs = decoder.mapping(output, what: "`output`") {
            decoder.checkKeys(outputPairs, allowed: ["schema"], in: "the judge's `output`")
            if let value = output["schema"] {
                if value.mapping != nil || value.scalar != nil {
                    schema = Located(value.json, at: value.span)
                } else {
                    decoder.typeMismatch(value, key: "schema", expected: "a JSON Schema (a mapping) or a file path")
                }
            } else {
                decoder.report(.missingKey, at: output.span, "the judge's `output` has no `schema`", hint: "add `schema: { type: object, ... }`")
            }
        }
        let pass = node["pass"].flatMap { decoder.condition($0, key: "pass") }
        if node["pass"] != nil, pass == nil { ok = false }
        let settings = pairs.compactMap { pair -> (String, JSONValue)? in
            guard let key = pair.key.scalar, passedThrough.contains(key) else { return nil }
            return (key, pair.value.json)
        }
        guard ok, let model, let prompt, let schema else { return nil }
        return EvaluatorSpec.Judge(model: model, prompt: prompt, schema: schema, pass: pass, settings: settings)
    }
}

/// The values an item's checks and judge prompts read: `input`, `output`, `expected`.
public enum EvalValues {
    public static let roots = ["input", "output", "expected"]

    public static func renderer(input: JSONValue, output: JSONValue?, expected: JSONValue?) -> TemplateRenderer {
        var values = ["input": input]
        values["output"] = output
        values["expected"] = expected
        return TemplateRenderer(values: values)
    }
}
