/// Where a run stands. A run is `running` from `startRun` until `finishRun`; one that was
/// killed before it could say so stays `running` in the store.
public enum RunStatus: String, Sendable, CaseIterable {
    case running
    case succeeded
    /// A stage failed after its retries and fallbacks.
    case failed
    /// Ctrl-C, or a process that died (shown for a `running` run whose process is gone).
    case interrupted
    case budgetExceeded = "budget_exceeded"
    /// Stopped before a stage with `approve: true`; `pipe approve` continues it.
    case waitingForApproval = "waiting_for_approval"
    /// A person rejected a stage with `pipe reject`.
    case rejected
}
