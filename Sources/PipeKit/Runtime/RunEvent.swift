/// What happens during a run, as it happens: for the progress display, the summary and
/// the trace (the run store gets its records through `RunJournal`).
public enum RunEvent: Sendable {
    case stageStarted(unit: RunUnitID)
    /// An attempt is about to call a model.
    case attemptStarted(unit: RunUnitID, attempt: Int, model: ResolvedModel)
    /// Characters of the reply streamed so far.
    case streaming(unit: RunUnitID, characters: Int)
    /// A call waits for its model's `rate_limit` (paced, or paused after a 429), or goes after waiting.
    case rateLimit(unit: RunUnitID, model: ResolvedModel, RateLimitWait)
    /// The model's `circuit_breaker` opened, refused a call, let a trial go, or closed.
    case circuit(unit: RunUnitID, model: ResolvedModel, CircuitEvent)
    /// An attempt ended without a usable value; another follows after `delay`.
    case retrying(unit: RunUnitID, attempt: Int, reason: StageFailure, delay: Duration)
    /// The stage's retries on one model are spent; the next model is tried.
    case fallingBack(unit: RunUnitID, from: ResolvedModel, to: ResolvedModel, reason: StageFailure)
    /// A call completed (or was answered from the cache).
    case callFinished(CallRecord)
    /// A tool call of a stage's tool loop ended.
    case toolCallFinished(ToolCallRecord)
    case stageFinished(StageReport)
}

/// How a stage went, for the run summary.
public struct StageReport: Sendable {
    public enum Status: String, Sendable {
        case succeeded, failed, cancelled
        /// Taken from the run being resumed, without a call.
        case reused
        /// `approve: true`, not approved yet.
        case waiting
        /// Its `when:` condition did not hold: it has no value.
        case skipped
        /// It failed, and `on_error: skip` left it without a value (`error` says why it failed).
        case failedSkipped = "failed_skipped"
        /// It failed, and `on_error: { default: ... }` gave it its value.
        case failedDefault = "failed_default"
    }

    /// Which run of the stage: the stage, a loop's iteration, an item of a `for_each`.
    public var unit: RunUnitID
    public var status: Status
    /// The model of the last attempt; nil for a stage that calls no model (a command).
    public var model: ResolvedModel?
    public var attempts: Int
    public var usage: TokenUsage
    /// Cost in USD, when the models used have prices.
    public var costUSD: Double?
    public var latency: Duration
    /// For a failed stage: the last error, in words.
    public var error: String?

    /// What the summary, the store and `pipe logs` show in place of a model for a stage that
    /// calls none: a command stage (`run:`).
    public static let command = "command"
    /// The same for a stage that runs a child spec (`pipeline:`).
    public static let pipeline = "pipeline"
    /// What stands in place of a model when `model` is nil: `command` or `pipeline`.
    public var withoutModel: String = StageReport.command

    /// The unit's text, as the run store, the trace and the summary show it (`writer@2`).
    public var stage: String { unit.description }
}
