/// A spec with everything resolved once: every setting by its precedence, every schema
/// loaded, every model name looked up, every reference walked through the schema it points
/// into, the loops, and every edge of the DAG. `Resolver` builds it; the rules
/// (`Compiler/Rules/`) only read it, and `Compiler` assembles the `CompiledPipeline` from it.
///
/// What went wrong while resolving is kept as facts (a `.broken` schema, an `.unknownRoot`
/// reference, a `LoopProblem`), never as diagnostics: saying it is the rules' business.
struct ResolvedPipeline {
    let spec: PipelineSpec
    /// The input's schema; `.text` when it declares none.
    let input: ResolvedSchema
    /// The shape of `{{ input }}`; nil when its schema failed to load.
    let inputShape: SchemaShape?
    /// Every stage as written, in declaration order (a duplicate name too; YAML reports it).
    let stages: [ResolvedStage]
    /// Problems loading the input's and the stages' schemas, in the order found.
    let schemaProblems: [SchemaProblem]
    /// The references of `output`.
    let outputReferences: [ResolvedReference]
    /// Every `when`, in declaration order, then the `until` of every loop in `loops`.
    let conditions: [ResolvedCondition]
    /// The loops that hold; `loopProblems` says why the others do not.
    let loops: [CompiledLoop]
    let loopProblems: [LoopProblem]
    /// `needs` that name no stage.
    let unknownNeeds: [(stage: String, need: Located<String>)]
    /// Every edge of the DAG, in the order found (the first edge between two stages is the
    /// one a cycle is reported at); the back references of loops are not edges.
    let edges: [DAG.Edge]
    /// The graph of `edges`, and its cycles.
    let graph: DAG
    let cycles: [DAG.Cycle]
    /// The text of each schema file loaded, by the path written in the spec.
    let schemaFiles: [String: String]

    /// Positions in `stages` by name (the first of duplicates).
    private let index: [String: Int]

    init(
        spec: PipelineSpec, input: ResolvedSchema, inputShape: SchemaShape?, stages: [ResolvedStage],
        schemaProblems: [SchemaProblem], outputReferences: [ResolvedReference], conditions: [ResolvedCondition],
        loops: [CompiledLoop], loopProblems: [LoopProblem], unknownNeeds: [(stage: String, need: Located<String>)],
        edges: [DAG.Edge], graph: DAG, cycles: [DAG.Cycle], schemaFiles: [String: String] = [:]
    ) {
        self.spec = spec
        self.input = input
        self.inputShape = inputShape
        self.stages = stages
        self.schemaProblems = schemaProblems
        self.outputReferences = outputReferences
        self.conditions = conditions
        self.loops = loops
        self.loopProblems = loopProblems
        self.unknownNeeds = unknownNeeds
        self.edges = edges
        self.graph = graph
        self.cycles = cycles
        self.schemaFiles = schemaFiles
        self.index = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The DAG, when the stages have no cycle.
    var dag: DAG? { cycles.isEmpty ? graph : nil }

    func stage(named name: String) -> ResolvedStage? { index[name].map { stages[$0] } }

    /// Stage names in declaration order.
    var stageNames: [String] { stages.map(\.name) }

    /// Stages that may not have a value when others read them: those with `when:`, and those
    /// with `on_error: skip`.
    var skippable: Set<String> { Set(stages.filter { $0.skipReason != nil }.map(\.name)) }

    /// The loop `name` is a member of, by the name of its last stage.
    func loop(of name: String) -> CompiledLoop? { loops.first { $0.members.contains(name) } }

    /// Every reference the compiler checks: the stages' `for_each` and templates, `output`,
    /// and the conditions.
    var allReferences: [ResolvedReference] {
        stages.flatMap { stage in (stage.forEach.map { [$0.list] } ?? []) + stage.references }
            + outputReferences + conditions.flatMap(\.references)
    }
}

/// A schema as loaded.
enum ResolvedSchema {
    /// None declared: the value is text.
    case text
    case loaded(JSONValue)
    /// Declared but not usable (not found, not JSON, an invalid inline schema); its problems
    /// are in `ResolvedPipeline.schemaProblems`, and references into it are not checked.
    case broken

    var schema: JSONValue? {
        if case .loaded(let schema) = self { return schema }
        return nil
    }
}

/// Whose schema a `SchemaProblem` is about.
enum SchemaOwner {
    case input
    case stage(String)
}

/// Why a schema could not be loaded, or is not valid JSON Schema.
enum SchemaProblem {
    case isURL(Located<String>)
    /// `closest`: a file beside it with a similar name.
    case fileNotFound(Located<String>, closest: String?)
    case outsideDirectory(Located<String>)
    /// Missing permissions, a directory, or over `ReadLimits.schemaFile`.
    case unreadable(Located<String>, BoundedRead.Problem)
    case notJSON(Located<String>, JSONParseError)
    /// `at`: the place in the spec, inside the inline schema.
    case invalidInline(SchemaOwner, at: Span, SchemaValidity.Problem)
    case invalidFile(Located<String>, SchemaOwner, SchemaValidity.Problem)
}

/// A stage with its settings, schema, models and references resolved. A class: the rules
/// walk the stages many times, and copying a stage's many fields each time cost more than
/// the checks.
final class ResolvedStage {
    let spec: StageSpec
    var name: String { spec.name.value }

    // Settings by precedence: the stage's own, then its model's, then `defaults`.
    let system: Template?
    let maxTokens: Located<Int>?
    let temperature: Located<Double>?
    let retries: Located<Int>?
    let timeout: Located<Duration>?
    let cache: Located<Bool>?
    let maxTurns: Located<Int>?

    /// The output schema; `.text` when the stage declares none.
    let output: ResolvedSchema
    /// The shape of the stage's value as other stages see it (a `for_each` stage's value is
    /// the list of its items' outputs); nil when its schema failed to load.
    let valueShape: SchemaShape?

    /// The model the stage names (its own or `defaults`'), nil when none is named.
    let model: ModelLookup?
    /// Its fallbacks (its own or `defaults`'); empty when no model is named.
    let fallbacks: [ModelLookup]

    let forEach: ResolvedForEach?
    /// The references of `templates`, in written order, fallbacks included.
    let references: [ResolvedReference]
    /// How many times the stage may run: a loop's `max_iterations` times the `maxItems` of
    /// a `for_each` list (when its schema bounds it).
    let maxRuns: Int

    /// The schema a reply (a `mock:` value, an `on_error` default) of the stage is checked
    /// against: its output schema, or a string's; nil when the schema failed to load.
    var replySchema: JSONValue? {
        switch output {
        case .text: ["type": "string"]
        case .loaded(let loaded): loaded
        case .broken: nil
        }
    }

    /// Why the stage may end without a value, in the words of `maybe-absent`: it has `when:`,
    /// or `on_error: skip`; nil when it always has one.
    var skipReason: String? {
        if spec.when != nil { return "it has `when:`" }
        if case .skip = spec.onError { return "it has `on_error: skip`" }
        return nil
    }

    /// Every template of the stage: `system`, then `prompt`; a command stage's arguments,
    /// then its `stdin`.
    var templates: [Template] {
        if let child = spec.pipeline { return child.input?.templates ?? [] }
        return spec.command?.templates ?? Self.templates(system: system, prompt: spec.prompt)
    }
    /// A `pipeline:` stage's child spec as the compiler found it.
    let childSpec: ChildSpec?
    /// The child, compiled without errors.
    var child: ResolvedChild? { childSpec?.child }

    /// A stage's templates, in the order they are checked, rendered and counted.
    static func templates(system: Template?, prompt: Template?) -> [Template] {
        [system, prompt].compactMap { $0 }
    }

    var maxTokensValue: Int { maxTokens?.value ?? BuiltinDefaults.maxTokens }
    var retriesValue: Int { retries?.value ?? BuiltinDefaults.retries }
    var maxTurnsValue: Int { maxTurns?.value ?? BuiltinDefaults.maxTurns }
    /// The stage's `tools:` entries that parse, as `ToolReference`s (the rules report the others).
    var toolReferences: [ToolReference] {
        (spec.tools ?? []).compactMap { written in
            ToolReference(parsing: written.value).map { ToolReference(server: $0.server, tool: $0.tool, span: written.span) }
        }
    }
    /// Model calls one attempt may make: one, or `max_turns` with tools.
    var turns: Int { toolReferences.isEmpty ? 1 : maxTurnsValue }

    init(
        spec: StageSpec, system: Template?, maxTokens: Located<Int>?, temperature: Located<Double>?,
        retries: Located<Int>?, timeout: Located<Duration>?, cache: Located<Bool>?, output: ResolvedSchema,
        valueShape: SchemaShape?, model: ModelLookup?, fallbacks: [ModelLookup], forEach: ResolvedForEach?,
        references: [ResolvedReference], maxRuns: Int, maxTurns: Located<Int>? = nil, child: ChildSpec? = nil
    ) {
        self.maxTurns = maxTurns
        self.childSpec = child
        self.spec = spec
        self.system = system
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.retries = retries
        self.timeout = timeout
        self.cache = cache
        self.output = output
        self.valueShape = valueShape
        self.model = model
        self.fallbacks = fallbacks
        self.forEach = forEach
        self.references = references
        self.maxRuns = maxRuns
    }
}

/// A model name looked up under `models`.
enum ModelLookup {
    case found(ResolvedModel)
    /// Declared, but its provider is missing or unknown (reported where it is declared).
    case unusable(Located<String>)
    /// Not declared under `models`.
    case undeclared(Located<String>)

    var model: ResolvedModel? {
        if case .found(let model) = self { return model }
        return nil
    }
}

/// A stage's `for_each` (a class, like `ResolvedStage`, to be cheap to pass around).
final class ResolvedForEach {
    let spec: ForEachSpec
    /// The list it iterates over (nothing is in scope but `input` and the stages).
    let list: ResolvedReference
    /// The shape of one item; nil when it is not known (the list did not resolve, or is not one).
    let itemShape: SchemaShape?
    /// The list is not a list: its type in words ("a string").
    let notAList: String?
    /// The item's name is also a stage's, which it hides.
    let hidesStage: Bool
    /// The most items the list can have, when its schema says (`maxItems`).
    let maxItems: Int?

    init(
        spec: ForEachSpec, list: ResolvedReference, itemShape: SchemaShape?, notAList: String?, hidesStage: Bool,
        maxItems: Int?
    ) {
        self.spec = spec
        self.list = list
        self.itemShape = itemShape
        self.notAList = notAList
        self.hidesStage = hidesStage
        self.maxItems = maxItems
    }
}

/// One `{{ path }}` (or a condition's reference), resolved where it is written.
struct ResolvedReference {
    let reference: TemplateReference
    /// The `for_each` item in scope where it is written.
    let item: String?
    let resolution: Resolution

    enum Resolution {
        /// The root is not `input`, a stage or the item in scope.
        case unknownRoot
        /// The root's schema failed to load, or the item's shape is not known: the path is
        /// not checked.
        case unchecked
        /// The path walked through the root's shape.
        case walked(PathWalk)
    }

    var root: String { reference.root.value }

    /// The shape at the end of the path, and whether the value may be absent there.
    var reached: (shape: SchemaShape, mayBeAbsent: Bool)? {
        if case .walked(.reached(let shape, let absent)) = resolution { return (shape, absent) }
        return nil
    }
}

/// A `when:` or a loop's `until:`, with its references resolved.
struct ResolvedCondition {
    let expression: Expression
    /// `when` or `until`.
    let key: String
    /// The stage it is written on (a loop's last stage for `until`).
    let stage: String
    let references: [ResolvedReference]
}

/// Why a `loop:` does not hold.
enum LoopProblem {
    /// `from` names no stage.
    case unknownFrom(Located<String>)
    /// The loop's last stage `end` does not depend on `from`.
    case notUpstream(end: String, from: Located<String>)
    /// `member` would be in the loops of both `other` and `end`; `at` is the later `loop:`.
    case overlap(member: String, other: String, end: String, at: Span)
}
