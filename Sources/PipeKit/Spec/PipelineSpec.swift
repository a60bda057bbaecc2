/// A pipeline spec as written: the YAML file decoded into types, every value with its span.
/// Nothing is resolved yet; `Compiler` turns this into a `CompiledPipeline`.
public struct PipelineSpec: Sendable {
    public var source: SourceFile
    public var version: Located<Int>?
    public var name: Located<String>?
    public var description: Located<String>?
    public var input = InputSpec()
    public var models: [ModelSpec] = []
    public var defaults = StageSettings()
    public var budget = BudgetSpec()
    /// `tools:`: the tool servers the stages may use, in written order.
    public var tools: [ToolServerSpec] = []
    public var stages: [StageSpec] = []
    public var output: OutputSpec?
    /// `record:`: how prompts and outputs are kept where the run is recorded.
    public var record: RecordSpec?

    public init(source: SourceFile) {
        self.source = source
    }
}

/// `input:`: what the pipeline reads on stdin.
public struct InputSpec: Sendable {
    /// Nil means raw text (a string).
    public var schema: SchemaSource?
}

/// A JSON Schema written inline in the spec, or the path of a schema file.
public enum SchemaSource: Sendable {
    /// The schema and the YAML node it came from (to place problems inside it).
    case inline(JSONValue, YAMLNode)
    /// A path relative to the spec file.
    case file(Located<String>)
}

/// An entry of `models:`: a name the stages use for a provider's model and its settings.
public struct ModelSpec: Sendable {
    public var name: Located<String>
    public var provider: Located<String>?
    public var model: Located<String>?
    public var baseURL: Located<String>?
    public var apiKeyEnv: Located<String>?
    public var price: Price?
    /// `rate_limit:` how fast this process may call the model.
    public var rateLimit: RateLimit?
    /// `batch: true`: `pipe batch` sends this model's calls in provider batches.
    public var batch: Located<Bool>?
    /// `circuit_breaker:` when to stop calling the model after failures in a row.
    public var circuitBreaker: CircuitBreakerSpec?
    /// Settings a stage inherits from its model (after its own, before `defaults`).
    public var settings = StageSettings()
    public var span: Span

    /// USD per million tokens.
    public struct Price: Sendable, Hashable {
        public var input: Double
        public var output: Double
        /// In a provider batch (`pipe batch --provider-batch`); nil: half of `input` / `output`.
        public var batchInput: Double? = nil
        public var batchOutput: Double? = nil

        /// The price of a call in a provider batch.
        public var batch: Price { Price(input: batchInput ?? input / 2, output: batchOutput ?? output / 2) }
    }

    /// The most the API allows a minute; at least one of the two is set, each above 0.
    public struct RateLimit: Sendable, Hashable {
        public var requestsPerMinute: Int?
        public var tokensPerMinute: Int?

        public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerMinute = tokensPerMinute
        }
    }
}

/// Settings shared by `defaults`, models and stages, resolved in that order of precedence:
/// the stage's own, then its model's, then `defaults`.
public struct StageSettings: Sendable {
    public var model: Located<String>?
    public var fallback: [Located<String>]?
    public var system: Template?
    public var maxTokens: Located<Int>?
    public var temperature: Located<Double>?
    public var retries: Located<Int>?
    public var timeout: Located<Duration>?
    /// `cache: true`: reuse the replies of identical earlier calls.
    public var cache: Located<Bool>?
    /// `max_turns`: model turns in a tool-using stage's loop (default 8).
    public var maxTurns: Located<Int>?

    public init() {}
}

/// A stage as written under `stages:`.
public struct StageSpec: Sendable {
    public var name: Located<String> {
        _read { yield fields.value.name }
        _modify { yield &fields.value.name }
    }
    public var settings: StageSettings {
        _read { yield fields.value.settings }
        _modify { yield &fields.value.settings }
    }
    public var prompt: Template? {
        _read { yield fields.value.prompt }
        _modify { yield &fields.value.prompt }
    }
    /// Nil: the stage produces a string.
    public var outputSchema: SchemaSource? {
        _read { yield fields.value.outputSchema }
        _modify { yield &fields.value.outputSchema }
    }
    public var needs: [Located<String>] {
        _read { yield fields.value.needs }
        _modify { yield &fields.value.needs }
    }
    /// `for_each`: the stage runs once per item of an array.
    public var forEach: ForEachSpec? {
        _read { yield fields.value.forEach }
        _modify { yield &fields.value.forEach }
    }
    /// `loop:` on the last stage of a group that repeats (critic → revise).
    public var loop: LoopSpec? {
        _read { yield fields.value.loop }
        _modify { yield &fields.value.loop }
    }
    /// `when:`: the stage runs only if this condition holds; otherwise it is skipped.
    public var when: Expression? {
        _read { yield fields.value.when }
        _modify { yield &fields.value.when }
    }
    /// `approve: true`: a person approves the stage before it runs.
    public var approve: Located<Bool>? {
        _read { yield fields.value.approve }
        _modify { yield &fields.value.approve }
    }
    /// `tools: [git.git_log, clock]`: the tools the model may call (`server.tool`, or a
    /// server for all its tools); nil when the stage has no `tools`.
    public var tools: [Located<String>]? {
        _read { yield fields.value.tools }
        _modify { yield &fields.value.tools }
    }
    /// `mock:`: the replies the mock provider gives this stage, in turn (for a command
    /// stage, what `--mock` answers instead of running it).
    public var mock: [(value: JSONValue, node: YAMLNode)] {
        _read { yield fields.value.mock }
        _modify { yield &fields.value.mock }
    }
    /// `run:` (with `shell`, `stdin`, `env`): a command stage, which runs a program instead
    /// of calling a model.
    public var command: CommandSpec? {
        _read { yield fields.value.command }
        _modify { yield &fields.value.command }
    }
    /// `on_error:`: what the run does when the stage fails after its retries and fallbacks.
    public var onError: OnErrorSpec? {
        _read { yield fields.value.onError }
        _modify { yield &fields.value.onError }
    }
    /// `pipeline:` (with `input`): a stage that runs another spec.
    public var pipeline: ChildPipelineSpec? {
        _read { yield fields.value.pipeline }
        _modify { yield &fields.value.pipeline }
    }
    public var span: Span {
        _read { yield fields.value.span }
        _modify { yield &fields.value.span }
    }

    public init(name: Located<String>, span: Span) {
        fields = CopyOnWrite(Fields(name: name, span: span))
    }

    /// A stage's fields take 1.8 KB, and the compiler's passes copy each stage many times:
    /// copied whole, they made `memmove` a third of a 500-stage compile, which sharing them
    /// halved (BENCHMARKS.md, session 22).
    private var fields: CopyOnWrite<Fields>

    private struct Fields: Sendable {
        var name: Located<String>
        var settings = StageSettings()
        var prompt: Template?
        var outputSchema: SchemaSource?
        var needs: [Located<String>] = []
        var forEach: ForEachSpec?
        var loop: LoopSpec?
        var when: Expression?
        var approve: Located<Bool>?
        var tools: [Located<String>]?
        var mock: [(value: JSONValue, node: YAMLNode)] = []
        var command: CommandSpec?
        var onError: OnErrorSpec?
        var pipeline: ChildPipelineSpec?
        var span: Span

        init(name: Located<String>, span: Span) {
            self.name = name
            self.span = span
        }
    }
}

/// `run:` and its companions on a stage: the program to run, its input and its environment.
public struct CommandSpec: Sendable {
    /// The argv, each argument a template; with `shell`, one command line for `/bin/sh -c`.
    public var arguments: [Template]
    /// Where `run:` is written (its key), for problems with it as a whole.
    public var span: Span
    /// `shell: true`: `run:` is one string run by `/bin/sh -c`.
    public var shell: Located<Bool>?
    /// `run:` was written as a list (an argv), not as one string.
    public var isList: Bool
    /// `stdin:`: what the program reads, rendered like a prompt.
    public var stdin: Template?
    /// `env:`: the program's whole environment, in written order.
    public var environment: [(name: Located<String>, value: EnvironmentValue)] = []

    /// Every template of the command, in the order it renders them: the arguments, then `stdin`.
    public var templates: [Template] { arguments + (stdin.map { [$0] } ?? []) }
}

/// A value of `env:`: a variable of pipe's own environment (`"${NAME}"`, read when the stage
/// runs), or a literal.
public enum EnvironmentValue: Sendable, Hashable {
    case variable(String)
    case literal(String)
}

/// An entry of `tools:`: how to reach one tool server, and what it may see.
public struct ToolServerSpec: Sendable {
    public var name: Located<String>
    /// Nil when `mcp` is missing or malformed (reported by the decoder).
    public var transport: Transport?
    /// `env:`: the only variables the server sees, each a literal or `${VAR}` from pipe's environment.
    public var environment: [(name: Located<String>, value: Located<String>)] = []
    /// `max_result_chars`: a longer tool result is cut.
    public var maxResultCharacters: Located<Int>?
    public var span: Span

    public enum Transport: Sendable {
        /// `mcp: { command: [argv...] }`: a child process speaking MCP on stdin/stdout.
        case stdio(command: [Located<String>])
        /// `mcp: { url: ..., headers: {...} }`: a Streamable HTTP server.
        case http(url: Located<String>, headers: [(name: String, value: Located<String>)])
    }
}

/// `budget:`: hard limits for the whole run.
public struct BudgetSpec: Sendable {
    public var maxTokens: Located<Int>?
    public var maxCostUSD: Located<Double>?
    public var maxDuration: Located<Duration>?
}

/// `output:`: the pipeline's result, one template or named templates.
public enum OutputSpec: Sendable {
    case single(Template)
    case fields([(name: Located<String>, template: Template)])

    public var templates: [Template] {
        switch self {
        case .single(let template): [template]
        case .fields(let fields): fields.map(\.template)
        }
    }
}

/// `on_error:` on a stage, as written: `fail`, `skip`, or `{ default: VALUE }` with the node
/// of the value (to place a schema problem inside it).
public enum OnErrorSpec: Sendable {
    case fail(Span)
    case skip(Span)
    case `default`(JSONValue, YAMLNode)

    /// What the run does, without the positions.
    public var policy: OnError {
        switch self {
        case .fail: .fail
        case .skip: .skip
        case .default(let value, _): .default(value)
        }
    }
}

/// What happens when a stage fails after its retries and fallbacks (`on_error`): the run
/// fails (the default), or goes on without the stage's value (`skip`: absent, as a stage
/// whose `when:` does not hold) or with a value given in the spec (`default`).
public enum OnError: Sendable, Equatable {
    case fail
    case skip
    case `default`(JSONValue)
}

/// `for_each: planner.questions` with `as`, `concurrency` and `on_item_error`: fan-out.
public struct ForEachSpec: Sendable {
    /// What to iterate over: a reference to an array.
    public var reference: TemplateReference
    /// The name the item has in the stage's templates (`as`, default `item`).
    public var itemName: Located<String>
    /// Items in flight at once (default: all, within the run's `--concurrency`).
    public var concurrency: Located<Int>?
    public var onItemError: Located<ItemErrorPolicy>

    /// What happens to an item whose retries and fallbacks are spent.
    public enum ItemErrorPolicy: String, Sendable {
        /// The stage fails, and so does the run.
        case fail
        /// The item is dropped from the stage's value, and the reason recorded.
        case skip
    }
}

/// `loop: { from: writer, until: critic.score >= 8, max_iterations: 3 }` on a stage: the
/// stages from `from` to this one run again until `until` holds or `max_iterations` is
/// reached. Inside the loop, a stage may read this stage's (or its own) value of the
/// previous iteration, with `??` for the first one.
public struct LoopSpec: Sendable {
    public var from: Located<String>
    public var until: Expression?
    public var maxIterations: Located<Int>
    public var span: Span
}
