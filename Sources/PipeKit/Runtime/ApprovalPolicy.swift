/// A stage with `approve: true` waiting for a person, with what it would receive.
public struct PendingApproval: Sendable, Hashable {
    public var stage: String
    public var system: String?
    public var prompt: String
}

/// Who decides on the stages with `approve: true`, before they run.
public struct ApprovalPolicy: Sendable {
    public enum Decision: Sendable {
        case approve
        case reject(reason: String)
        /// Nobody can decide now: the run stops, waiting, and `pipe approve` continues it.
        case wait
    }

    /// Stages approved already (`pipe approve`), or every stage (`--approve-all`).
    public var approved: Set<String>
    public var approveAll: Bool
    /// Asks a person (on a terminal); nil: nobody to ask, so the run waits.
    public var ask: (@Sendable (PendingApproval) async -> Decision)?

    public init(approved: Set<String> = [], approveAll: Bool = false, ask: (@Sendable (PendingApproval) async -> Decision)? = nil) {
        self.approved = approved
        self.approveAll = approveAll
        self.ask = ask
    }

    /// nil when the stage may run; otherwise the outcome that holds it (waiting or rejected).
    func hold(_ context: StageContext, _ executor: any StageExecutor) async -> (StageOutcome, StageReport)? {
        let stage = context.stage
        if approveAll || approved.contains(stage.name) { return nil }
        let pending = executor.pending(context)
        let decision = await ask?(pending) ?? .wait
        var report = StageReport.empty(RunUnitID(stage: stage.name), .cancelled, stage: stage)
        switch decision {
        case .approve:
            return nil
        case .reject(let reason):
            report.status = .failed
            report.error = "rejected: \(reason)"
            return (.failed(.rejected(reason: reason)), report)
        case .wait:
            report.status = .waiting
            report.error = "waiting for approval"
            return (.waiting(pending), report)
        }
    }
}
