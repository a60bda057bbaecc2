import Foundation

/// Where a run keeps what it did, the moment it happens, and finds what it did before:
/// the run store implements it (`pipe run` records every call; `--resume` and `--cache`
/// read earlier results). The runner works without one.
public protocol RunJournal: Sendable {
    /// A stage's value recorded under this fingerprint by the run being resumed, if any.
    func reusableOutput(stage: String, fingerprint: String) async -> JSONValue?
    /// The reply to an earlier successful call with the same key (`--cache`), if any.
    func cachedReply(key: String) async -> ModelReply?
    /// The value of a stage that finished with this fingerprint in any earlier run, if any:
    /// `--cache` for a stage that calls no model (a command).
    func cachedOutput(fingerprint: String) async -> JSONValue?
    /// Called when a model call completes, successful or not.
    func record(_ call: CallRecord) async
    /// Called when a stage ends.
    func record(_ stage: StageRecord) async
    /// Called when a tool call of a stage with `tools:` ends.
    func record(_ toolCall: ToolCallRecord) async
    /// Whether `reusableOutput` may find anything (the journal of a run that resumes another):
    /// when not, a model stage's fingerprint is made only for its record, where it is written.
    var resumes: Bool { get }
    /// Called when none of the run's units is running: between a unit's end and the start of
    /// the units after it, and once the last has ended. No record comes until a unit starts
    /// again (or the run ends), so a journal that holds records back, to write more of them
    /// at once, need not wait for more.
    func idle()
}

extension RunJournal {
    /// A journal that keeps no tool calls.
    public func record(_ toolCall: ToolCallRecord) async {}

    /// Unless the journal says otherwise, every stage's fingerprint is made before it runs.
    public var resumes: Bool { true }

    /// A journal that writes each record as it comes has nothing to hurry.
    public func idle() {}
}

/// One tool call of a stage's tool loop, as it happened.
public struct ToolCallRecord: Sendable {
    /// The unit's text (`reviewer`, `review[2]`).
    public var stage: String
    public var attempt: Int
    /// The model turn (from 1) whose reply asked for the call.
    public var turn: Int
    /// `server.tool`, or the name the model wrote for a tool it was not offered.
    public var tool: String
    public var arguments: JSONValue
    /// The result's length before any cut, in characters.
    public var resultCharacters: Int
    /// The result went back to the model as an error.
    public var isError: Bool
    /// Why the call failed (the server's failure, a tool not offered), if it did.
    public var error: String?
    public var duration: Duration
    /// When the call started (wall clock); nil in stores written before it was kept.
    public var startedAt: Date? = nil
    /// The id the model gave the call (`toolu_...`, `call_...`), to match its result.
    public var callID: String? = nil
    /// The result as it went back to the model; only in the run's events (for traces that
    /// capture content), never stored.
    public var result: String? = nil

    /// The row's insert into `tool_calls`, in both stores' SQL; `placeholder(n)` writes the
    /// nth parameter (`?`, `$n`).
    static func insert(_ placeholder: (Int) -> String) -> String {
        "INSERT INTO tool_calls (run_id, stage, attempt, turn, tool, arguments, result_chars, is_error, error, latency_ms, created_at, started_at) VALUES ("
            + (1...12).map(placeholder).joined(separator: ", ") + ")"
    }
}

/// One model call as it happened: what was sent, what came back, what it cost.
public struct CallRecord: Sendable {
    public enum Status: String, Sendable {
        /// A reply that parsed and matched the output schema.
        case ok
        /// A reply that was not JSON or did not match the schema.
        case invalid
        /// No usable reply: an HTTP or connection error.
        case failed
        /// Answered from the cache, without a call.
        case cached
        /// A reply that called tools: a turn of a stage's tool loop, not an answer.
        case turn
    }

    public var stage: String
    /// 1-based across the stage's models.
    public var attempt: Int
    public var model: ResolvedModel
    public var request: ModelRequest
    public var reply: String?
    public var status: Status
    /// Validation errors, or the call's error, in words.
    public var problems: [String]
    public var usage: TokenUsage
    public var costUSD: Double?
    public var latency: Duration
    /// Identifies identical calls (provider, model, parameters, messages, schema), for the cache:
    /// `Fingerprint.call(request)`, made when it is first read unless the stage made it to look
    /// the cache up. A recorded run without `--cache` hashes its requests where the record is
    /// written (the store's queue), not on the thread that drives HTTP.
    public var cacheKey: String { madeCacheKey ?? Fingerprint.call(request) }
    var madeCacheKey: String?
    /// Why the model stopped, for a reply; nil for a failed or cached call.
    public var stopReason: StopReason? = nil
    /// A failed call's kind of error (`429`, `timeout`: `ProviderError.kind`), for traces.
    public var errorKind: String? = nil
    /// The model the provider says answered (`ModelReply.model`); nil when none said.
    public var responseModel: String? = nil

    /// `cacheKey`: the key if already made, else nil (made from `request` when read).
    public init(
        stage: String, attempt: Int, model: ResolvedModel, request: ModelRequest, reply: String?, status: Status,
        problems: [String], usage: TokenUsage, costUSD: Double?, latency: Duration, cacheKey: String?,
        stopReason: StopReason? = nil, errorKind: String? = nil, responseModel: String? = nil
    ) {
        self.stage = stage
        self.attempt = attempt
        self.model = model
        self.request = request
        self.reply = reply
        self.status = status
        self.problems = problems
        self.usage = usage
        self.costUSD = costUSD
        self.latency = latency
        madeCacheKey = cacheKey
        self.stopReason = stopReason
        self.errorKind = errorKind
        self.responseModel = responseModel
    }
}

/// How a stage ended, with its value and the fingerprint that lets a resumed run reuse it.
public struct StageRecord: Sendable {
    public var report: StageReport
    public var output: JSONValue?
    /// Nil for a stage that called nothing of its own: skipped, waiting for approval, or a
    /// `for_each` as a whole (its items are recorded, and reused, one by one). Made when first
    /// read when the stage gave only what it is made of (`StageFingerprint.later`).
    public var fingerprint: String? {
        get { stageFingerprint?.value }
        set { stageFingerprint = newValue.map(StageFingerprint.made) }
    }
    var stageFingerprint: StageFingerprint?

    public init(report: StageReport, output: JSONValue?, fingerprint: String?) {
        self.init(report: report, output: output, stageFingerprint: fingerprint.map(StageFingerprint.made))
    }

    init(report: StageReport, output: JSONValue?, stageFingerprint: StageFingerprint?) {
        self.report = report
        self.output = output
        self.stageFingerprint = stageFingerprint
    }
}

/// A stage's fingerprint (`Fingerprint.stage`), made at once when something reads it before
/// the stage ends (a resumed run looks its stages up by it), else made from its parts where
/// the stage's record is written (the store's queue), not on the thread that runs the stages
/// (HTTP's): a SHA-256 of the stage's definition and prompts, for every stage of a recorded run.
enum StageFingerprint: Sendable {
    case made(String)
    case later(PipelineRunner.PlannedStage, rendered: [String])

    var value: String {
        switch self {
        case .made(let fingerprint): fingerprint
        case .later(let planned, let rendered): Fingerprint.stage(planned.fingerprintParts, rendered: rendered)
        }
    }
}

/// Fingerprints: equal when the thing they identify is the same.
public enum Fingerprint {
    /// A stage: its definition (models and settings, templates, schema) and its rendered
    /// inputs (a model stage's system prompt, or `-`, and prompt; a command stage's arguments,
    /// stdin, or `-`, and the names of its `env:`). A resumed run reuses a stage's recorded
    /// value only when this matches.
    public static func stage(_ stage: CompiledStage, rendered: [String]) -> String {
        self.stage(StageParts(stage), rendered: rendered)
    }

    /// A stage's fingerprint from its parts made once (`StageParts`, kept by the runner's
    /// `PlannedStage`): the same text as `stage(_:rendered:)`.
    static func stage(_ parts: StageParts, rendered: [String]) -> String {
        var hashed = parts.before
        hashed.add(all: rendered)
        hashed.add(all: parts.after)
        return hashed.hex
    }

    /// What a stage's fingerprint holds besides its rendered inputs, the same for every run:
    /// the parts before them, already hashed (the definition, its schema serialized), and
    /// the parts after them (its templates' text). A batch makes one fingerprint an item.
    struct StageParts: Sendable {
        fileprivate let before: Parts
        fileprivate let after: [String]

        init(_ stage: CompiledStage) {
            var before = Parts()
            var after: [String] = []
            switch stage.kind {
            case .model(let model):
                before.add(all: [
                    "stage", stage.name, models(stage.models), String(model.maxTokens),
                    model.temperature.map { String($0) } ?? "-", String(model.retries), stage.outputSchema?.serialized() ?? "text",
                ])
                after.append(TemplateText.source(of: model.prompt))
                // Tools only when there are some, so that earlier fingerprints still match.
                if !model.tools.isEmpty {
                    after += ["tools", model.tools.map(\.description).joined(separator: ","), String(model.maxTurns)]
                }
            case .command(let command):
                before.add(all: ["command", stage.name, command.shell ? "shell" : "argv", stage.outputSchema?.serialized() ?? "text"])
                after = command.arguments.map(TemplateText.source(of:))
            case .pipeline(let child):
                // The child's text and files, and the input rendered for it.
                before.add(all: ["pipeline", stage.name, child.digest])
            }
            self.before = before
            self.after = after
        }
    }

    /// A call: the cache reuses a reply only for exactly the same request. A message of one
    /// text block counts as its text, and tools only when there are some, so that keys made
    /// before messages had blocks still match.
    public static func call(_ request: ModelRequest) -> String {
        var parts = Parts()
        parts.add(all: [
            "call", request.model.provider.name, request.model.model, request.model.baseURL ?? "-", String(request.maxTokens),
            request.temperature.map { String($0) } ?? "-", request.system ?? "-",
        ])
        // The messages, as one part.
        parts.add("")
        for (index, message) in request.messages.enumerated() {
            if index > 0 { parts.append("\u{1E}") }
            parts.append(message.role.rawValue)
            parts.append(":")
            if let text = message.plainText {
                parts.append(text)
            } else {
                parts.append("\u{1D}")
                parts.append(message.contentJSON.serialized())
            }
        }
        parts.add(request.outputSchema?.serialized() ?? "text")
        if !request.tools.isEmpty { parts.add(JSONValue.array(request.tools.map(\.json)).serialized()) }
        return parts.hex
    }

    /// The SHA-256 of parts joined with U+001F, hashed as they come (not joined first: a
    /// recorded run makes two fingerprints a call).
    fileprivate struct Parts: Sendable {
        private var hasher = SHA256()
        private var empty = true

        /// Starts a part.
        mutating func add(_ part: String) {
            if !empty { hasher.update("\u{1F}") }
            empty = false
            hasher.update(part)
        }

        /// Each of `parts`, in order.
        mutating func add(all parts: [String]) {
            for part in parts { add(part) }
        }

        /// Adds to the part started last.
        mutating func append(_ text: String) {
            hasher.update(text)
        }

        var hex: String { SHA256.hex(digest: hasher.finalize()) }
    }

    static func models(_ models: [ResolvedModel]) -> String {
        models.map { "\($0.provider.name)/\($0.model)/\($0.baseURL ?? "-")" }.joined(separator: ",")
    }
}

/// A template written back as text (for fingerprints).
enum TemplateText {
    static func source(of template: Template) -> String {
        template.parts.map { part in
            switch part {
            case .text(let text): text
            case .reference(let reference): "{{ \(reference.source) }}"
            }
        }.joined()
    }
}
