/// Compiles a spec file: YAML → positioned tree → `PipelineSpec` → checked `CompiledPipeline`.
///
/// Every rule runs, so one pass reports all problems; the pipeline is returned only when
/// there is no error.
public enum Compiler {
    public struct Result: Sendable {
        public var pipeline: CompiledPipeline?
        public var diagnostics: [Diagnostic]

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// - Parameter directory: where relative schema paths start; the spec's directory
    ///   (the current directory for a spec read from stdin).
    public static func compile(_ source: SourceFile, directory: String) -> Result {
        var diagnostics = DiagnosticSink()
        guard let root = YAMLLoader().load(source, diagnostics: &diagnostics) else {
            if !diagnostics.hasErrors {
                diagnostics.report(
                    .emptySpec, at: .fileStart(source.path), "the spec is empty",
                    hint: "start with `version: 1` and a `stages:` mapping; `pipe schema` prints the format")
            }
            return Result(pipeline: nil, diagnostics: diagnostics.sorted)
        }
        if root.isNull {
            diagnostics.report(
                .emptySpec, at: root.span, "the spec is empty",
                hint: "start with `version: 1` and a `stages:` mapping; `pipe schema` prints the format")
            return Result(pipeline: nil, diagnostics: diagnostics.sorted)
        }
        var decoder = SpecDecoder(source: source, diagnostics: diagnostics)
        let spec = decoder.decode(root)
        var compilation = Compilation(spec: spec, directory: directory, diagnostics: decoder.diagnostics)
        compilation.loadSchemas()
        compilation.resolveModels()
        compilation.checkReferences()
        compilation.checkConditions()
        compilation.checkLoops()
        compilation.buildGraph()
        compilation.checkBudgets()
        compilation.checkOutputUse()
        compilation.checkMockValues()
        let pipeline = compilation.diagnostics.hasErrors ? nil : compilation.pipeline()
        return Result(pipeline: pipeline, diagnostics: compilation.diagnostics.sorted)
    }
}

/// The state of one compilation, filled in by the rule families (`Compiler/Rules/`).
struct Compilation {
    let spec: PipelineSpec
    let directory: String
    var diagnostics: DiagnosticSink
    /// Stages and models by name (the first of duplicates, which YAML already reports).
    let stages: [String: StageSpec]
    let declaredModels: [String: ModelSpec]

    /// The input's schema (nil: raw text).
    var inputSchema: JSONValue?
    /// Output schemas of the stages that declare one and whose schema loaded.
    var outputSchemas: [String: JSONValue] = [:]
    /// Stages whose schema failed to load: references into them are not checked.
    var brokenSchemas: Set<String> = []
    var models: [String: ResolvedModel] = [:]
    var fallbacks: [String: [ResolvedModel]] = [:]
    var edges: [DAG.Edge] = []
    var loops: [CompiledLoop] = []
    var dag: DAG?

    init(spec: PipelineSpec, directory: String, diagnostics: DiagnosticSink) {
        self.spec = spec
        self.directory = directory
        self.diagnostics = diagnostics
        self.stages = Dictionary(spec.stages.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
        self.declaredModels = Dictionary(spec.models.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A stage setting by precedence: the stage's own, then its model's, then `defaults`.
    /// Called with a key path literal (`setting(stage, \.retries)`), which becomes a closure:
    /// reading through a `KeyPath` value copied the whole `StageSettings` at each step.
    func setting<T>(_ stage: StageSpec, _ field: (StageSettings) -> T?) -> T? {
        if let own = field(stage.settings) { return own }
        if let modelName = (stage.settings.model ?? spec.defaults.model)?.value,
            let model = declaredModels[modelName], let fromModel = field(model.settings)
        {
            return fromModel
        }
        return field(spec.defaults)
    }

    func pipeline() -> CompiledPipeline? {
        guard let dag else { return nil }
        var compiled: [CompiledStage] = []
        for name in dag.order {
            guard let stage = stages[name], let prompt = stage.prompt, let model = models[name] else { return nil }
            compiled.append(
                CompiledStage(
                    name: name, span: stage.name.span, model: model, fallbacks: fallbacks[name] ?? [],
                    system: setting(stage, \.system), prompt: prompt, outputSchema: outputSchemas[name],
                    maxTokens: setting(stage, \.maxTokens)?.value ?? BuiltinDefaults.maxTokens,
                    temperature: setting(stage, \.temperature)?.value,
                    retries: setting(stage, \.retries)?.value ?? BuiltinDefaults.retries,
                    timeout: setting(stage, \.timeout)?.value ?? BuiltinDefaults.timeout,
                    dependencies: dag.dependencies[name] ?? [], cache: setting(stage, \.cache)?.value ?? false,
                    forEach: stage.forEach, when: stage.when, approve: stage.approve?.value ?? false,
                    maxRuns: maxRuns(of: stage), mockReplies: stage.mock.map(\.value)))
        }
        let output: PipelineOutput
        switch spec.output {
        case .single(let template): output = .single(template)
        case .fields(let fields): output = .fields(fields.map { ($0.name.value, $0.template) })
        case nil: output = .sinks(dag.sinks)
        }
        return CompiledPipeline(
            name: spec.name?.value ?? "pipeline", source: spec.source, inputSchema: inputSchema, stages: compiled,
            dag: dag, output: output, loops: loops,
            budget: .init(
                maxTokens: spec.budget.maxTokens?.value, maxCostUSD: spec.budget.maxCostUSD?.value,
                maxDuration: spec.budget.maxDuration?.value))
    }
}
