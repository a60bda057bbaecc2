/// What a stage does when it runs. Each kind has its settings here, its executor in
/// `Runtime/Executors/` (registered in `StageKind.executor`) and its compiler rules; the
/// `switch`es over this enum (no `default:`) are every other place a new kind must handle.
public enum StageKind: Sendable {
    /// A model completion: render the prompt, call the model, validate the reply.
    case model(ModelStage)
    /// A program run with its arguments and `stdin` rendered: its stdout is the value.
    case command(CommandStage)
    /// Another spec (`pipeline:`), run inside the parent's run: its output is the value.
    case pipeline(PipelineStage)

    /// Every template of the stage, in the order it reads them.
    public var templates: [Template] {
        switch self {
        case .model(let stage): ResolvedStage.templates(system: stage.system, prompt: stage.prompt)
        case .command(let stage): stage.arguments + (stage.stdin.map { [$0] } ?? [])
        case .pipeline(let stage): stage.input?.templates ?? []
        }
    }

    /// Every model the stage may call, in the order it tries them.
    public var models: [ResolvedModel] {
        switch self {
        case .model(let stage): [stage.model] + stage.fallbacks
        case .command: []
        // The child's, which share the process's providers, limiters and breakers.
        case .pipeline(let stage): stage.child.stages.flatMap(\.models)
        }
    }

    /// The mock provider's replies (`mock:`), used in turn.
    public var mockReplies: [JSONValue] {
        switch self {
        case .model(let stage): stage.mockReplies
        case .command(let stage): stage.mockReplies
        case .pipeline: []
        }
    }

    /// The tools the stage offers its model (`tools:`); empty for a kind that calls none.
    public var tools: [ToolReference] {
        switch self {
        case .model(let stage): stage.tools
        case .command, .pipeline: []
        }
    }

    /// Model calls one attempt may make: one, or `max_turns` for a stage with tools.
    public var turns: Int {
        switch self {
        case .model(let stage): stage.tools.isEmpty ? 1 : stage.maxTurns
        case .command, .pipeline: 0
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

/// A stage that runs a program (`run:`): no model, no tokens. Its stdout, parsed as JSON and
/// validated against the output schema (or its text, without a schema), is its value.
public struct CommandStage: Sendable {
    /// The argv, each argument rendered like a prompt; with `shell`, one command line.
    public var arguments: [Template]
    /// `shell: true`: `arguments[0]` is run by `/bin/sh -c`.
    public var shell: Bool
    public var stdin: Template?
    /// The program's whole environment (`env:`), in written order.
    public var environment: [(name: String, value: EnvironmentValue)]
    /// Where the program runs: the spec's directory.
    public var workingDirectory: String
    /// Runs again after a failed attempt (a non-zero exit, a timeout, invalid output).
    public var retries: Int
    /// Per attempt; the program's process group is killed when it is over.
    public var timeout: Duration
    /// `cache: true`: reuse the value of an identical earlier run of the stage.
    public var cache: Bool = false
    /// `mock:` values, which answer instead of the program under `--mock`.
    public var mockReplies: [JSONValue] = []

    /// Runs of the program at most, per unit.
    public var maxAttempts: Int { 1 + retries }

    /// The program as written (`python3`, or `sh` for a shell line), for the graph and the plan.
    public var program: String {
        if shell { return "sh -c" }
        guard let first = arguments.first else { return "" }
        return TemplateText.source(of: first)
    }
}

/// A stage that runs another spec (`pipeline:`): the child, compiled with the parent, runs
/// inside the parent's run (its budget, its journal with its stages named `stage/child`,
/// its `--mock`, `--resume` and `--cache`); its output is the stage's value.
public struct PipelineStage: Sendable {
    /// The child spec's path as written, normalized (`teams/research.yaml`).
    public var path: String
    public var child: CompiledPipeline
    /// `input:`: what the child reads; nil: the parent's input.
    public var input: ChildInputSpec?
    /// The child's text and the files it reads, by path: what `digest` hashes.
    var files: [String: String]
    /// The SHA-256 of the child's text and files: a stage's fingerprint changes with them.
    /// Made where a fingerprint reads it (a recorded run, `--resume`, `--cache`), not by every
    /// compile: `pipe lint` hashes nothing, and needs no libcrypto.
    public var digest: String {
        SHA256.hex(files.sorted { $0.key < $1.key }.map { $0.key + "\u{1F}" + $0.value }.joined(separator: "\u{1E}"))
    }
    /// `cache: true`: the child's stages reuse identical earlier calls and values.
    public var cache: Bool = false
}

extension CompiledPipeline {
    /// Every stage's `mock:` values, by its name; a child spec's stages under their
    /// `pipeline:` stage's (`team/researcher`), at any depth: what `--mock` answers with.
    public var mockReplies: [String: [JSONValue]] {
        var replies: [String: [JSONValue]] = [:]
        for stage in stages {
            replies[stage.name] = stage.mockReplies
            guard case .pipeline(let child) = stage.kind else { continue }
            for (name, values) in child.child.mockReplies { replies[stage.name + "/" + name] = values }
        }
        return replies
    }
}
