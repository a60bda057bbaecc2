/// A spec compiled into what the runner needs: resolved models and settings, loaded
/// schemas, checked templates and the DAG. Only a spec without errors compiles.
public struct CompiledPipeline: Sendable {
    public var name: String
    public var source: SourceFile
    /// Nil: the input is raw text (a string).
    public var inputSchema: JSONValue?
    /// Stages in topological order.
    public internal(set) var stages: [CompiledStage]
    public var dag: DAG
    public var output: PipelineOutput
    public var budget: Budget
    /// Groups of stages that repeat; the scheduler runs each as one unit.
    public let loops: [CompiledLoop]
    /// The text of each schema file the spec references, by the path written in it: what
    /// `pipe batch` stores with the spec so that workers compile exactly what was submitted.
    public var schemaFiles: [String: String] = [:]
    /// `tools:`: the tool servers declared, in written order.
    public var toolServers: [ToolServerDeclaration] = []
    /// The spec's directory: the working directory of the tool servers it spawns.
    public var directory: String = "."
    /// `record:`: how the run's prompts and outputs are recorded (the command line may override it).
    public var record = RecordPolicy.full
    /// Positions in `stages` by name.
    private let index: [String: Int]

    public init(
        name: String, source: SourceFile, inputSchema: JSONValue?, stages: [CompiledStage], dag: DAG,
        output: PipelineOutput, loops: [CompiledLoop] = [], budget: Budget
    ) {
        self.loops = loops
        self.name = name
        self.source = source
        self.inputSchema = inputSchema
        self.stages = stages
        self.dag = dag
        self.output = output
        self.budget = budget
        self.index = Dictionary(stages.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func stage(named name: String) -> CompiledStage? { index[name].map { stages[$0] } }

    /// Hard limits for the whole run.
    public struct Budget: Sendable {
        public var maxTokens: Int?
        public var maxCostUSD: Double?
        public var maxDuration: Duration?
    }
}

/// How the pipeline's result is assembled.
public enum PipelineOutput: Sendable {
    /// `output: "{{ editor.text }}"`.
    case single(Template)
    /// `output: { article: "{{ editor.text }}", ... }`, in written order.
    case fields([(name: String, template: Template)])
    /// No `output`: the outputs of the sink stages keyed by name.
    case sinks([String])
}

/// A model declared under `models:` with everything needed to call it.
public struct ResolvedModel: Sendable, Hashable {
    /// The name the spec uses (`fast`).
    public var name: String
    public var provider: Provider
    /// The provider's model id (`claude-haiku-4-5`).
    public var model: String
    public var baseURL: String?
    public var apiKeyEnv: String?
    public var price: ModelSpec.Price?
    /// `rate_limit`: every call of the process to the same API model shares it.
    public var rateLimit: ModelSpec.RateLimit?
    /// `batch: true`: `pipe batch` sends its calls in provider batches.
    public var batch = false
    /// `circuit_breaker`: every call of the process to the same API model shares it; nil: none.
    public var circuitBreaker: CircuitBreakerSpec? = nil
}

/// A stage ready to run: what every stage has (its place in the DAG, its output, the
/// wrappers the scheduler applies around it: `when`, `approve`, `for_each`, a loop) and its
/// `kind`, what it does when it runs.
public struct CompiledStage: Sendable {
    public var name: String {
        _read { yield fields.value.name }
        _modify { yield &fields.value.name }
    }
    public var span: Span {
        _read { yield fields.value.span }
        _modify { yield &fields.value.span }
    }
    /// What the stage does: today a model completion (`StageKind`).
    public var kind: StageKind {
        _read { yield fields.value.kind }
        _modify { yield &fields.value.kind }
    }
    /// Nil: the stage produces a string.
    public var outputSchema: JSONValue? {
        _read { yield fields.value.outputSchema }
        _modify { yield &fields.value.outputSchema }
    }
    /// Direct dependencies, in declaration order.
    public var dependencies: [String] {
        _read { yield fields.value.dependencies }
        _modify { yield &fields.value.dependencies }
    }
    /// `for_each`: the stage runs once per item; its value is the list of the items' outputs.
    public var forEach: ForEachSpec? {
        _read { yield fields.value.forEach }
        _modify { yield &fields.value.forEach }
    }
    /// `when:`: the stage runs only if this holds; otherwise it is skipped and has no value.
    public var when: Expression? {
        _read { yield fields.value.when }
        _modify { yield &fields.value.when }
    }
    /// `approve: true`: the run stops before this stage until a person approves it.
    public var approve: Bool {
        _read { yield fields.value.approve }
        _modify { yield &fields.value.approve }
    }
    /// The loop the stage belongs to (the name of the loop's stage with `loop:`), if any.
    public var loop: String? {
        _read { yield fields.value.loop }
        _modify { yield &fields.value.loop }
    }
    /// How many times the stage may run, at most: a loop's `max_iterations` times the
    /// `maxItems` of a fan-out's list (1 when the list is not bounded).
    public var maxRuns: Int {
        _read { yield fields.value.maxRuns }
        _modify { yield &fields.value.maxRuns }
    }
    /// `on_error`: what the run does when the stage fails after its retries and fallbacks.
    public var onError: OnError {
        _read { yield fields.value.onError }
        _modify { yield &fields.value.onError }
    }

    init(
        name: String, span: Span, kind: StageKind, outputSchema: JSONValue?, dependencies: [String], forEach: ForEachSpec?,
        when: Expression?, approve: Bool, loop: String?, maxRuns: Int, onError: OnError
    ) {
        fields = CopyOnWrite(Fields(
            name: name, span: span, kind: kind, outputSchema: outputSchema, dependencies: dependencies, forEach: forEach,
            when: when, approve: approve, loop: loop, maxRuns: maxRuns, onError: onError))
    }

    /// A stage's fields take about 1 KB, and the compiler and the runner copy each stage
    /// several times (BENCHMARKS.md, session 22).
    private var fields: CopyOnWrite<Fields>

    private struct Fields: Sendable {
        var name: String
        var span: Span
        var kind: StageKind
        var outputSchema: JSONValue?
        var dependencies: [String]
        var forEach: ForEachSpec?
        var when: Expression?
        var approve: Bool
        var loop: String?
        var maxRuns: Int
        var onError: OnError
    }

    /// Every template of the stage, in the order its kind reads them.
    public var templates: [Template] { kind.templates }

    /// Every template reference of the stage.
    public var references: [TemplateReference] { templates.flatMap(\.references) }

    /// Every value a run of the stage may look up by name: the roots of its templates (their
    /// `??` fallbacks too), of `when` and of the `for_each` list, and `input` (a `pipeline:`
    /// stage without `input:` passes the run's own). The runner hands a stage only these
    /// values, not all it holds (`PipelineRunner.values(_:readBy:)`).
    public var reads: Set<String> {
        var names: Set<String> = ["input"]
        for reference in references { names.insert(reference.root.value) }
        for reference in when?.references ?? [] {
            for link in reference.chain { names.insert(link.root.value) }
        }
        for link in forEach?.reference.chain ?? [] { names.insert(link.root.value) }
        return names
    }

    /// Every model the stage may call, in the order it tries them (none for a kind that
    /// calls no model).
    public var models: [ResolvedModel] { kind.models }

    /// The mock provider's replies for this stage (`mock:`), used in turn.
    public var mockReplies: [JSONValue] { kind.mockReplies }
}

/// Built-in settings used when neither a stage, its model nor `defaults` sets one.
public enum BuiltinDefaults {
    public static let maxTokens = 1024
    public static let retries = 2
    public static let timeout: Duration = .seconds(60)
    public static let maxTurns = 8
}

/// A loop: `members` (in declaration order) run again, iteration after iteration, until
/// `until` holds after an iteration or `maxIterations` have run. Downstream stages see the
/// last iteration's values.
public struct CompiledLoop: Sendable {
    /// The stage with `loop:`.
    public var end: String
    public var from: String
    public var members: [String]
    public var until: Expression?
    public var maxIterations: Int
}
