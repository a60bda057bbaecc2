/// What happens during a run, as it happens: for the progress display, the summary and
/// the trace (the run store gets its records through `RunJournal`).
public enum RunEvent: Sendable {
    case stageStarted(stage: String)
    /// An attempt is about to call a model.
    case attemptStarted(stage: String, attempt: Int, model: ResolvedModel)
    /// Characters of the reply streamed so far.
    case streaming(stage: String, characters: Int)
    /// An attempt ended without a usable value; another follows after `delay`.
    case retrying(stage: String, attempt: Int, reason: String, delay: Duration)
    /// The stage's retries on one model are spent; the next model is tried.
    case fallingBack(stage: String, from: ResolvedModel, to: ResolvedModel, reason: String)
    /// A call completed (or was answered from the cache).
    case callFinished(CallRecord)
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
    }

    public var stage: String
    public var status: Status
    /// The model of the last attempt.
    public var model: ResolvedModel
    public var attempts: Int
    public var usage: TokenUsage
    /// Cost in USD, when the models used have prices.
    public var costUSD: Double?
    public var latency: Duration
    /// For a failed stage: the last error, in words.
    public var error: String?

    /// The report of a stage that made no call: skipped, held for approval, or not reached.
    static func empty(_ stage: String, _ status: Status, model: ResolvedModel) -> StageReport {
        StageReport(stage: stage, status: status, model: model, attempts: 0, usage: .zero, costUSD: nil, latency: .zero, error: nil)
    }
}
