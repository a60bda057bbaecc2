/// Graceful degradation (`on_error`): a stage that fails after its retries and fallbacks
/// ends without a value (`skip`, absent as a stage whose `when:` does not hold) or with the
/// spec's value (`default`), and the run goes on. The report keeps the failure's words and
/// says which (`failed_skipped`, `failed_default`); the record has no fingerprint, so
/// `--resume` and `--cache` never reuse it: the next run tries the stage again.
extension CompiledStage {
    /// How the stage as a whole ended once its `on_error` is applied. A budget stop, a
    /// person's rejection and a cancellation are never degraded: they are not the stage's
    /// failure but the run's.
    func degraded(_ outcome: StageOutcome, _ report: StageReport) -> (StageOutcome, StageReport) {
        guard case .failed(let failure) = outcome, failure.isDegradable else { return (outcome, report) }
        var report = report
        report.error = report.error ?? failure.description
        switch onError {
        case .fail:
            return (outcome, report)
        case .skip:
            report.status = .failedSkipped
            return (.skipped, report)
        case .default(let value):
            report.status = .failedDefault
            return (.value(value), report)
        }
    }
}

extension StageFailure {
    /// A failure of the stage's own work, which `on_error` may turn into a skip or a default.
    var isDegradable: Bool {
        switch self {
        case .rejected: false
        default: !isBudget
        }
    }
}

extension StageReport.Status {
    /// The stage failed and `on_error` let the run go on without it (or with its default).
    public var isDegraded: Bool { self == .failedSkipped || self == .failedDefault }

    /// The status in the words of the summary, `pipe logs` and the progress: `failed → skipped`.
    public var display: String {
        switch self {
        case .failedSkipped: "failed → skipped"
        case .failedDefault: "failed → default"
        default: rawValue
        }
    }
}

extension PipelineRunner.Result {
    /// The stages that failed and were degraded by their `on_error`, in the order they ended:
    /// a run that succeeded with some is a partial result (`--strict-errors` makes it exit 1).
    public var degraded: [StageReport] { stages.filter { $0.status.isDegraded } }
}
