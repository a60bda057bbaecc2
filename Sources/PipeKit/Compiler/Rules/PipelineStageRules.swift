// Rules `pipeline-stage` and `child-input`: a stage that runs another spec (`pipeline:`)
// names a spec file inside the parent's directory tree that compiles (its own problems are
// reported in its file), without a cycle of specs or a nesting deeper than
// `ChildSpecs.maxDepth`, and has none of the keys only a model or a command reads; what it
// passes as `input` fits the child's input schema, field by field.
struct PipelineStageRules: Rule {
    let ids: [RuleID] = [.pipelineStage, .childInput]

    func check(_ resolved: ResolvedPipeline, into diagnostics: inout DiagnosticSink) {
        for stage in resolved.stages {
            guard let written = stage.spec.pipeline else { continue }
            for (key, span) in otherKeys(of: stage.spec) {
                diagnostics.report(
                    .pipelineStage, at: span,
                    "stage `\(stage.name)` runs a spec (`pipeline:`): `\(key)` does not apply to it",
                    hint: key == "output" ? "its value is the child's output: the child spec's `output:` shapes it"
                        : "set `\(key)` in the child spec's stages, or remove it")
            }
            guard let child = stage.childSpec else { continue }
            if case .problem(let problem) = child.outcome {
                let (message, hint) = Self.words(problem, path: written.path.value)
                diagnostics.report(.pipelineStage, at: written.path.span, message, hint: hint)
                continue
            }
            guard let compiled = child.child else { continue }
            if let held = compiled.pipeline.stages.first(where: \.approve) {
                diagnostics.report(
                    .pipelineStage, at: written.path.span,
                    "stage `\(held.name)` of child spec `\(written.path.value)` has `approve: true`, which a child spec cannot have yet",
                    hint: "put the approval on the parent's stage `\(stage.name)` instead")
            }
            if !compiled.pipeline.toolServers.isEmpty {
                diagnostics.report(
                    .pipelineStage, at: written.path.span,
                    "child spec `\(written.path.value)` declares `tools:`, which a child spec cannot have yet",
                    hint: "declare the tool servers in the parent spec and move the tool-using stage there")
            }
            checkInput(written, of: stage, child: compiled, in: resolved, into: &diagnostics)
        }
    }

    /// The keys a model or a command reads that the stage sets itself, where each is written.
    private func otherKeys(of stage: StageSpec) -> [(String, Span)] {
        let settings = stage.settings
        var outputSpan: Span?
        switch stage.outputSchema {
        case .inline(_, let node): outputSpan = node.span
        case .file(let path): outputSpan = path.span
        case nil: break
        }
        let written: [(String, Span?)] = [
            ("prompt", stage.prompt?.span), ("model", settings.model?.span), ("fallback", settings.fallback?.first?.span),
            ("system", settings.system?.span), ("max_tokens", settings.maxTokens?.span),
            ("temperature", settings.temperature?.span), ("tools", stage.tools?.first?.span),
            ("max_turns", settings.maxTurns?.span), ("run", stage.command?.span), ("retries", settings.retries?.span),
            ("timeout", settings.timeout?.span), ("output", outputSpan), ("mock", stage.mock.first?.node.span),
        ]
        return written.compactMap { key, span in span.map { (key, $0) } }
    }

    static func words(_ problem: ChildProblem, path: String) -> (String, String?) {
        switch problem {
        case .isURL:
            ("child spec `\(path)` is a URL; pipe never fetches specs", "save the spec beside this one and give its relative path")
        case .notFound(let closest):
            ("child spec `\(path)` not found", closest.map { "did you mean `\($0)`?" } ?? "paths are relative to the spec file's directory")
        case .outsideDirectory:
            ("child spec `\(path)` is outside the spec's directory", "copy the child spec into this spec's directory tree")
        case .unreadable(let problem): ("child spec `\(path)` cannot be read: \(problem)", nil)
        case .cycle(let chain, let from):
            ("spec cycle: " + chain[from...].map { "`\($0)`" }.joined(separator: " → ") + " runs itself",
                "a spec cannot run itself through its `pipeline:` stages; break the chain")
        case .tooDeep(let limit):
            ("child spec `\(path)` is nested more than \(limit) specs deep", "flatten the specs: at most \(limit) levels of `pipeline:`")
        case .tooMany(let limit):
            ("child spec `\(path)` is one more than the \(limit) child spec files one spec may read", "reuse fewer spec files")
        }
    }

    // MARK: The input

    /// What the stage passes, against the child's input schema.
    private func checkInput(
        _ written: ChildPipelineSpec, of stage: ResolvedStage, child: ResolvedChild, in resolved: ResolvedPipeline,
        into diagnostics: inout DiagnosticSink
    ) {
        let expected: JSONValue
        switch child.inputSchema {
        case .text: expected = ["type": "string"]
        case .loaded(let schema): expected = schema
        case .broken: return
        }
        let expectedShape = SchemaShape(expected)
        let name = "child spec `\(written.path.value)`"
        switch written.input {
        case nil:
            guard let passed = resolved.inputShape else { return }
            if let found = Self.mismatch(passed, expected: expectedShape) {
                diagnostics.report(
                    .childInput, at: written.path.span,
                    "\(name) reads \(expectedShape.typeDescription) as its input, but stage `\(stage.name)` passes this spec's input, \(found)",
                    hint: "add `input:` with what the child reads")
            }
        case .template(let template):
            let passed = shape(of: template, in: stage)
            if let passed, let found = Self.mismatch(passed, expected: expectedShape) {
                diagnostics.report(
                    .childInput, at: template.span,
                    "\(name) reads \(expectedShape.typeDescription) as its input, but `input` of stage `\(stage.name)` is \(found)",
                    hint: expectedShape.typeDescription == "an object"
                        ? "pass its fields as a mapping: `input: { field: \"{{ stage.field }}\" }`" : nil)
            }
        case .fields(let fields, let span):
            if let found = Self.mismatch(SchemaShape(["type": "object"]), expected: expectedShape) {
                diagnostics.report(
                    .childInput, at: span, "\(name) reads \(expectedShape.typeDescription) as its input, but `input` of stage `\(stage.name)` is \(found)",
                    hint: "pass one template: `input: \"{{ ... }}\"`")
                return
            }
            for field in fields {
                let span = field.template?.span ?? { if case .literal(_, let node) = field.value { return node.span } else { return field.name.span } }()
                let property: SchemaShape
                switch expectedShape.field(field.name.value) {
                case .success(let found): property = found
                case .failure(.noSuchField(let known)):
                    diagnostics.report(
                        .childInput, at: field.name.span, "\(name) has no input field `\(field.name.value)`",
                        hint: Suggestions.hint(for: field.name.value, in: known, kind: "its input fields"))
                    continue
                case .failure: continue
                }
                let passed: SchemaShape?
                switch field.value {
                case .template(let template): passed = shape(of: template, in: stage)
                case .literal(let value, _): passed = SchemaShape(["type": .string(value.typeName == "integer" ? "integer" : value.typeName)])
                }
                if let passed, let found = Self.mismatch(passed, expected: property) {
                    diagnostics.report(
                        .childInput, at: span,
                        "input field `\(field.name.value)` of \(name) is \(property.typeDescription), but stage `\(stage.name)` passes \(found)")
                }
            }
            let given = Set(fields.map(\.name.value))
            let required = expectedShape.schemas.flatMap { $0.objectValue?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            for missing in required where !given.contains(missing) {
                diagnostics.report(
                    .childInput, at: span, "\(name) requires the input field `\(missing)`, which stage `\(stage.name)` does not pass",
                    hint: "add `\(missing): \"{{ ... }}\"` to `input`")
            }
        }
    }

    /// The shape of a template's value: a `{{ reference }}` alone keeps the value's; anything
    /// else renders to a string. Nil when the reference's shape is not known.
    private func shape(of template: Template, in stage: ResolvedStage) -> SchemaShape? {
        guard let reference = template.singleReference else { return .string }
        return stage.references.first { $0.reference == reference }?.reached?.shape
    }

    /// The passed value's types in words when none of them is one the expected shape allows.
    static func mismatch(_ passed: SchemaShape, expected: SchemaShape) -> String? {
        guard let have = types(passed), let want = types(expected), have.isDisjoint(with: want) else { return nil }
        return passed.typeDescription
    }

    private static func types(_ shape: SchemaShape) -> Set<String>? {
        var all = Set<String>()
        for schema in shape.schemas {
            guard let types = SchemaShape.types(of: schema) else { return nil }
            all.formUnion(types)
        }
        return all.isEmpty ? nil : all
    }
}
