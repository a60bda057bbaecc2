import Foundation
import GRDB

/// Approvals of the stages with `approve: true` (`RunApprovals`), in the `approvals` table.
extension RunStore {
    public func recordApproval(runID: String, stage: String, decision: ApprovalDecision, reason: String? = nil)
        async throws(StoreError)
    {
        let arguments: StatementArguments = [runID, stage, decision.rawValue, reason, StoreTime.text(Date())]
        try await write { db in try db.execute(sql: Self.decide, arguments: arguments) }
    }

    public func approvedStages(runID: String) async throws(StoreError) -> Set<String> {
        try await read { db in
            Set(try String.fetchAll(
                db, sql: "SELECT stage FROM approvals WHERE run_id = ? AND decision = ?",
                arguments: [runID, ApprovalDecision.approved.rawValue]))
        }
    }

    public func waitingStages(runID: String) async throws(StoreError) -> [String] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT stage FROM stages WHERE run_id = ? AND status = ? ORDER BY id",
                arguments: [runID, StageReport.Status.waiting.rawValue])
        }
    }

    public func reject(runID: String, stages: [String], reason: String) async throws(StoreError) {
        let decidedAt = StoreTime.text(Date())
        try await write { db in
            for stage in stages {
                try db.execute(
                    sql: Self.decide, arguments: [runID, stage, ApprovalDecision.rejected.rawValue, reason, decidedAt])
            }
            try db.execute(
                sql: "UPDATE runs SET status = ?, error = ? WHERE id = ?",
                arguments: [RunStatus.rejected.rawValue, "rejected: \(reason)", runID])
        }
    }

    /// A decision on a stage, replacing an earlier one.
    private static let decide = """
        INSERT INTO approvals (run_id, stage, decision, reason, decided_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id, stage) DO UPDATE
            SET decision = excluded.decision, reason = excluded.reason, decided_at = excluded.decided_at
        """
}
