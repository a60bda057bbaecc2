import Foundation

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
        /// The child specs (`pipeline:` stages) compiled with it, whose diagnostics are in
        /// their own files.
        public var sources: [SourceFile] = []

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

        /// The diagnostics by file, the spec's first: what `pipe lint` prints.
        public func lintedFiles(_ source: SourceFile) -> [LintedFile] {
            [LintedFile(source: source, diagnostics: diagnostics.filter { $0.span.file == source.path })]
                + sources.compactMap { child in
                    let found = diagnostics.filter { $0.span.file == child.path }
                    return found.isEmpty ? nil : LintedFile(source: child, diagnostics: found)
                }
        }
    }

    /// - Parameter directory: where relative schema paths start; the spec's directory
    ///   (the current directory for a spec read from stdin).
    public static func compile(_ source: SourceFile, directory: String) -> Result {
        compile(source, schemaFiles: .directory(directory))
    }

    /// Compiles a spec whose schema files come from `schemaFiles` (a batch's stored texts).
    public static func compile(_ source: SourceFile, schemaFiles: SchemaFiles) -> Result {
        let identity: String
        switch schemaFiles {
        case .directory(let directory):
            let name = source.path.split(separator: "/").last.map(String.init) ?? source.path
            identity = URL(fileURLWithPath: directory + "/" + name).standardizedFileURL.resolvingSymlinksInPath().path
        case .stored: identity = ChildSpecs.normalized(source.path.split(separator: "/").last.map(String.init) ?? source.path)
        }
        return compile(
            source, schemaFiles: schemaFiles, chain: [ChildSpecs.Link(identity: identity, path: source.path)], session: ChildSpecs.Session()
        ).result
    }

    /// Compiles a spec with the chain of specs whose `pipeline:` stages led to it; with the
    /// resolved spec, for a parent compiling it as a child.
    static func compile(
        _ source: SourceFile, schemaFiles: SchemaFiles, chain: [ChildSpecs.Link], session: ChildSpecs.Session
    ) -> (result: Result, resolved: ResolvedPipeline?) {
        var diagnostics = DiagnosticSink()
        guard let root = YAMLLoader().load(source, diagnostics: &diagnostics) else {
            if !diagnostics.hasErrors {
                diagnostics.report(
                    .emptySpec, at: .fileStart(source.path), "the spec is empty",
                    hint: "start with `version: 1` and a `stages:` mapping; `pipe schema` prints the format")
            }
            return (Result(pipeline: nil, diagnostics: diagnostics.sorted), nil)
        }
        if root.isNull {
            diagnostics.report(
                .emptySpec, at: root.span, "the spec is empty",
                hint: "start with `version: 1` and a `stages:` mapping; `pipe schema` prints the format")
            return (Result(pipeline: nil, diagnostics: diagnostics.sorted), nil)
        }
        var decoder = SpecDecoder(source: source, diagnostics: diagnostics)
        let spec = decoder.decode(root)
        diagnostics = decoder.diagnostics
        let children = ChildSpecs.compile(spec, files: schemaFiles, chain: chain, session: session, diagnostics: &diagnostics)
        let resolved = Resolver.resolve(spec, files: schemaFiles, children: children)
        RuleRegistry.check(resolved, into: &diagnostics)
        let directory: String
        switch schemaFiles {
        case .directory(let path): directory = path
        case .stored: directory = source.path.lastIndex(of: "/").map { String(source.path[..<$0]) } ?? "."
        }
        let pipeline = diagnostics.hasErrors ? nil : pipeline(from: resolved, directory: directory)
        var sources: [SourceFile] = []
        for child in children.values.sorted(by: { $0.path.span.start < $1.path.span.start }) {
            for file in child.sources where !sources.contains(where: { $0.path == file.path }) { sources.append(file) }
        }
        return (Result(pipeline: pipeline, diagnostics: diagnostics.sorted, sources: sources), resolved)
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
        compiled.reserveCapacity(dag.order.count)
        for name in dag.order {
            guard let stage = resolved.stage(named: name) else { return nil }
            let kind: StageKind
            if let child = stage.child {
                kind = .pipeline(
                    PipelineStage(
                        path: child.path, child: child.pipeline, input: stage.spec.pipeline?.input,
                        files: child.files,
                        cache: stage.cache?.value ?? false))
            } else if let command = stage.spec.command {
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
        for stage in resolved.stages {
            for (path, text) in stage.child?.files ?? [:] { pipeline.schemaFiles[path] = text }
        }
        pipeline.toolServers = spec.tools.compactMap(Self.declaration)
        pipeline.directory = directory
        pipeline.record = spec.record?.policy ?? .full
        return pipeline
    }
}
