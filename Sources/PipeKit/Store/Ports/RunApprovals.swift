/// The port for approvals of the stages with `approve: true`: given with `pipe approve` (or
/// at the terminal), carried over to the runs that resume a run, so nobody is asked twice.
public protocol RunApprovals: Sendable {
    /// Records (or replaces) the decision on a stage of a run.
    func recordApproval(runID: String, stage: String, decision: ApprovalDecision, reason: String?) async throws(StoreError)
    /// The stages approved for a run.
    func approvedStages(runID: String) async throws(StoreError) -> Set<String>
    /// The stages a run stopped at, waiting for approval, in the order it recorded them.
    func waitingStages(runID: String) async throws(StoreError) -> [String]
    /// Records the rejection of `stages` and marks the run `rejected`, so that it is not continued.
    func reject(runID: String, stages: [String], reason: String) async throws(StoreError)
}

/// What a person decided about a stage that waits for approval.
public enum ApprovalDecision: String, Sendable {
    case approved, rejected
}
