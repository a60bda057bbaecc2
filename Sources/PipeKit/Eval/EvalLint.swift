/// Checks an eval file against the spec it measures: judges' models declared under the spec's
/// `models:`, checks' paths and matchers typed against the pipeline's output (and input)
/// schema, `pass:` conditions typed against the judge's schema, and `min_pass_rate` naming
/// known evaluators with rates in 0...1. Reuses the rule ids of spec lint.
public enum EvalLint {
    /// The `evals:` section of a test file decoded and checked against its compiled spec: what
    /// `pipe lint` adds for a test file that has one (nothing when it has none).
    public static func lint(_ source: SourceFile, pipeline: CompiledPipeline) -> [Diagnostic] {
        var sink = DiagnosticSink()
        guard let root = YAMLLoader().load(source, diagnostics: &sink), root["evals"] != nil else { return [] }
        let (file, diagnostics) = EvalFileDecoder.decode(source)
        guard let file else { return diagnostics }
        return diagnostics + check(file, pipeline: pipeline, models: modelNames(YAMLLoader().load(pipeline.source, diagnostics: &sink)))
    }

    /// The names declared under `models:` of a spec's YAML.
    public static func modelNames(_ spec: YAMLNode?) -> [String] {
        spec?["models"]?.mapping?.compactMap(\.key.scalar) ?? []
    }

    /// - Parameters:
    ///   - models: the names declared under the spec's `models:`.
    public static func check(_ file: EvalFile, pipeline: CompiledPipeline, models: [String]) -> [Diagnostic] {
        var sink = DiagnosticSink()
        for evaluator in file.evaluators {
            switch evaluator.kind {
            case .check(let check): self.check(check, pipeline: pipeline, into: &sink)
            case .judge(let judge): self.judge(judge, models: models, into: &sink)
            }
        }
        for (name, rate) in file.minPassRates {
            if file.evaluator(named: name.value) == nil {
                sink.report(.unknownReference, at: name.span, "`min_pass_rate` names `\(name.value)`, which is not an evaluator",
                    hint: Suggestions.hint(for: name.value, in: file.evaluators.map(\.name.value), kind: "evaluators"))
            }
            if !(0...1).contains(rate.value) {
                sink.report(.invalidValue, at: rate.span, "a pass rate is between 0 and 1, found \(rate.value)",
                    hint: "write a fraction: 0.95 for 95%")
            }
        }
        return sink.sorted
    }

    static func judge(_ judge: EvaluatorSpec.Judge, models: [String], into sink: inout DiagnosticSink) {
        if !models.contains(judge.model.value) {
            sink.report(.unknownModel, at: judge.model.span, "the judge's model `\(judge.model.value)` is not declared under the spec's `models:`",
                hint: Suggestions.hint(for: judge.model.value, in: models, kind: "models"))
        }
        for reference in judge.prompt.references where !EvalValues.roots.contains(reference.root.value) {
            sink.report(.unknownReference, at: reference.root.span, "a judge's prompt reads input, output and expected, not `\(reference.root.value)`",
                hint: Suggestions.hint(for: reference.root.value, in: EvalValues.roots, kind: "roots"))
        }
        guard case .object = judge.schema.value else { return }
        do {
            _ = try JSONSchema(compiling: judge.schema.value)
        } catch {
            sink.report(.invalidSchema, at: judge.schema.span, "the judge's schema does not compile: \(error)",
                hint: "write a JSON Schema: `{ type: object, required: [score], properties: { score: { type: integer } } }`")
            return
        }
        guard let pass = judge.pass else { return }
        let shape = SchemaShape(judge.schema.value)
        let checker = ExpressionChecker { reference in
            ExpressionType.of([PathSegment(.field(reference.root.value), span: reference.root.span)] + reference.path, in: shape)
        }
        var found = DiagnosticSink()
        _ = checker.checkCondition(pass, key: "pass", diagnostics: &found)
        for diagnostic in found.diagnostics { sink.report(diagnostic) }
        for reference in pass.references where ExpressionType.of(
            [PathSegment(.field(reference.root.value), span: reference.root.span)] + reference.path, in: shape) == nil
        {
            sink.report(.unknownField, at: reference.span, "`\(reference)` is not in the judge's output schema",
                hint: "`pass:` reads the judge's answer: a field its schema declares, such as `score`")
        }
    }

    static func check(_ check: EvaluatorSpec.Check, pipeline: CompiledPipeline, into sink: inout DiagnosticSink) {
        // An expected value from the dataset is known only per item.
        guard !check.matcher.hasTemplates, let shape = shape(of: check.path, in: pipeline) else { return }
        for diagnostic in check.matcher.typeErrors(against: shape, path: check.path.description, at: check.matcherSpan) {
            sink.report(diagnostic)
        }
    }

    /// The schema shape of a check's path: `output` through the pipeline's `output:`, `input`
    /// through the input schema; nil when it cannot be known (`expected`, a computed value).
    static func shape(of reference: TemplateReference, in pipeline: CompiledPipeline) -> SchemaShape? {
        switch reference.root.value {
        case "input":
            return (pipeline.inputSchema.map { SchemaShape($0) } ?? .string).walk(reference.path).shape
        case "output":
            switch pipeline.output {
            case .single(let template):
                return shape(of: template, then: reference.path, in: pipeline)
            case .fields(let fields):
                guard case .field(let name)? = reference.path.first?.kind else { return nil }
                guard let field = fields.first(where: { $0.name == name }) else { return nil }
                return shape(of: field.template, then: Array(reference.path.dropFirst()), in: pipeline)
            case .sinks:
                return nil
            }
        default:
            return nil
        }
    }

    static func shape(of template: Template, then path: [PathSegment], in pipeline: CompiledPipeline) -> SchemaShape? {
        guard let single = template.singleReference else { return path.isEmpty ? .string : nil }
        let shape: SchemaShape
        if single.root.value == "input" {
            shape = pipeline.inputSchema.map { SchemaShape($0) } ?? .string
        } else if let stage = pipeline.stage(named: single.root.value), stage.forEach == nil, stage.loop == nil {
            shape = stage.outputSchema.map { SchemaShape($0) } ?? .string
        } else {
            return nil
        }
        return shape.walk(single.path + path).shape
    }
}
