/// What a stage does when it runs. Each kind has its settings here, its executor in
/// `Runtime/Executors/` (registered in `StageKind.executor`) and its compiler rules; the
/// `switch`es over this enum (no `default:`) are every other place a new kind must handle.
public enum StageKind: Sendable {
    /// A model completion: render the prompt, call the model, validate the reply.
    case model(ModelStage)

    /// Every template of the stage, in the order it reads them.
    public var templates: [Template] {
        switch self {
        case .model(let stage): ResolvedStage.templates(system: stage.system, prompt: stage.prompt)
        }
    }

    /// Every model the stage may call, in the order it tries them.
    public var models: [ResolvedModel] {
        switch self {
        case .model(let stage): [stage.model] + stage.fallbacks
        }
    }

    /// The mock provider's replies (`mock:`), used in turn.
    public var mockReplies: [JSONValue] {
        switch self {
        case .model(let stage): stage.mockReplies
        }
    }

    /// The tools the stage offers its model (`tools:`); empty for a kind that calls none.
    public var tools: [ToolReference] {
        switch self {
        case .model(let stage): stage.tools
        }
    }

    /// Model calls one attempt may make: one, or `max_turns` for a stage with tools.
    public var turns: Int {
        switch self {
        case .model(let stage): stage.tools.isEmpty ? 1 : stage.maxTurns
        }
    }
}

/// A stage that asks a model: its models and settings resolved (stage, then model, then
/// defaults).
public struct ModelStage: Sendable {
    public var model: ResolvedModel
    /// Tried in order after the retries on `model` are spent.
    public var fallbacks: [ResolvedModel]
    public var system: Template?
    public var prompt: Template
    public var maxTokens: Int
    public var temperature: Double?
    /// Re-asks after a failed call or an invalid reply, per model.
    public var retries: Int
    /// Per attempt.
    public var timeout: Duration
    /// Reuse the replies of identical earlier calls (`cache: true`).
    public var cache: Bool = false
    /// The mock provider's replies for this stage (`mock:`), used in turn.
    public var mockReplies: [JSONValue] = []
    /// `tools:`: the tools offered to the model, each turn, until it answers.
    public var tools: [ToolReference] = []
    /// `max_turns`: model calls an attempt may make when the stage has tools.
    public var maxTurns: Int = BuiltinDefaults.maxTurns

    /// Calls the stage may make at most: every model, each with its retries.
    public var maxAttempts: Int { (1 + retries) * (1 + fallbacks.count) }
}
