/// Compiles a spec file: YAML → positioned tree → `PipelineSpec` → `ResolvedPipeline` (the
/// one resolution pass, `Compiler/Resolve/`) → the rules (`RuleRegistry`, `Compiler/Rules/`)
/// → `CompiledPipeline`.
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
        compile(source, schemaFiles: .directory(directory))
    }

    /// Compiles a spec whose schema files come from `schemaFiles` (a batch's stored texts).
    public static func compile(_ source: SourceFile, schemaFiles: SchemaFiles) -> Result {
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
        diagnostics = decoder.diagnostics
        let resolved = Resolver.resolve(spec, files: schemaFiles)
        RuleRegistry.check(resolved, into: &diagnostics)
        let directory: String
        switch schemaFiles {
        case .directory(let path): directory = path
        case .stored: directory = source.path.lastIndex(of: "/").map { String(source.path[..<$0]) } ?? "."
        }
        let pipeline = diagnostics.hasErrors ? nil : pipeline(from: resolved, directory: directory)
        return Result(pipeline: pipeline, diagnostics: diagnostics.sorted)
    }

    /// A declared tool server as the run starts it; nil when its `mcp` did not decode.
    static func declaration(_ server: ToolServerSpec) -> ToolServerDeclaration? {
        let transport: ToolServerConfig.Transport
        switch server.transport {
        case .stdio(let command): transport = .stdio(command: command.map(\.value))
        case .http(let url, let headers):
            transport = .http(url: url.value, headers: Dictionary(headers.map { ($0.name, $0.value.value) }, uniquingKeysWith: { _, last in last }))
        case nil: return nil
        }
        return ToolServerDeclaration(
            name: server.name.value, transport: transport,
            environment: Dictionary(server.environment.map { ($0.name.value, $0.value.value) }, uniquingKeysWith: { _, last in last }),
            maxResultCharacters: server.maxResultCharacters?.value ?? ToolServerConfig.defaultMaxResultCharacters,
            span: server.name.span)
    }

    /// The pipeline the runner needs, from a resolved spec without errors; `directory` is
    /// where command stages run.
    static func pipeline(from resolved: ResolvedPipeline, directory: String) -> CompiledPipeline? {
        guard let dag = resolved.dag else { return nil }
        let loopOf = Dictionary(
            resolved.loops.flatMap { loop in loop.members.map { ($0, loop.end) } }, uniquingKeysWith: { first, _ in first })
        var compiled: [CompiledStage] = []
        for name in dag.order {
            guard let stage = resolved.stage(named: name) else { return nil }
            let kind: StageKind
            if let command = stage.spec.command {
                kind = .command(
                    CommandStage(
                        arguments: command.arguments, shell: command.shell?.value ?? false, stdin: command.stdin,
                        environment: command.environment.map { ($0.name.value, $0.value) }, workingDirectory: directory,
                        retries: stage.retriesValue, timeout: stage.timeout?.value ?? BuiltinDefaults.timeout,
                        cache: stage.cache?.value ?? false, mockReplies: stage.spec.mock.map(\.value)))
            } else {
                guard let prompt = stage.spec.prompt, let model = stage.model?.model else { return nil }
                kind = .model(
                    ModelStage(
                        model: model, fallbacks: stage.fallbacks.compactMap(\.model), system: stage.system, prompt: prompt,
                        maxTokens: stage.maxTokensValue, temperature: stage.temperature?.value, retries: stage.retriesValue,
                        timeout: stage.timeout?.value ?? BuiltinDefaults.timeout, cache: stage.cache?.value ?? false,
                        mockReplies: stage.spec.mock.map(\.value), tools: stage.toolReferences, maxTurns: stage.maxTurnsValue))
            }
            compiled.append(
                CompiledStage(
                    name: name, span: stage.spec.name.span, kind: kind, outputSchema: stage.output.schema,
                    dependencies: dag.dependencies[name] ?? [], forEach: stage.spec.forEach, when: stage.spec.when,
                    approve: stage.spec.approve?.value ?? false, loop: loopOf[name], maxRuns: stage.maxRuns,
                    onError: stage.spec.onError?.policy ?? .fail))
        }
        let spec = resolved.spec
        let output: PipelineOutput
        switch spec.output {
        case .single(let template): output = .single(template)
        case .fields(let fields): output = .fields(fields.map { ($0.name.value, $0.template) })
        case nil: output = .sinks(dag.sinks)
        }
        var pipeline = CompiledPipeline(
            name: spec.name?.value ?? "pipeline", source: spec.source, inputSchema: resolved.input.schema, stages: compiled,
            dag: dag, output: output, loops: resolved.loops,
            budget: .init(
                maxTokens: spec.budget.maxTokens?.value, maxCostUSD: spec.budget.maxCostUSD?.value,
                maxDuration: spec.budget.maxDuration?.value))
        pipeline.schemaFiles = resolved.schemaFiles
        pipeline.toolServers = spec.tools.compactMap(Self.declaration)
        pipeline.directory = directory
        pipeline.record = spec.record?.policy ?? .full
        return pipeline
    }
}
