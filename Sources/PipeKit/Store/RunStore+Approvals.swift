import Foundation
import GRDB

/// Approvals of the stages with `approve: true`: given with `pipe approve` (or at the
/// terminal), carried over to the runs that resume a run, so nobody is asked twice.
extension RunStore {
    public enum Decision: String, Sendable {
        case approved, rejected
    }

    public func recordApproval(runID: String, stage: String, decision: Decision, reason: String? = nil) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO approvals (run_id, stage, decision, reason, decided_at) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [runID, stage, decision.rawValue, reason, StoreTime.text(Date())])
        }
    }

    /// The stages approved for a run.
    public func approvedStages(runID: String) throws(StoreError) -> Set<String> {
        try read { db in
            Set(try String.fetchAll(
                db, sql: "SELECT stage FROM approvals WHERE run_id = ? AND decision = 'approved'", arguments: [runID]))
        }
    }

    /// The stages a run stopped at, waiting for approval.
    public func waitingStages(runID: String) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(
                db, sql: "SELECT stage FROM stages WHERE run_id = ? AND status = 'waiting' ORDER BY id", arguments: [runID])
        }
    }

    /// Marks a waiting run as rejected, with the reason, so that it is not continued.
    public func reject(runID: String, stages: [String], reason: String) throws(StoreError) {
        try write { db in
            for stage in stages {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO approvals (run_id, stage, decision, reason, decided_at) VALUES (?, ?, 'rejected', ?, ?)",
                    arguments: [runID, stage, reason, StoreTime.text(Date())])
            }
            try db.execute(
                sql: "UPDATE runs SET status = ?, error = ? WHERE id = ?",
                arguments: [RunStatus.rejected.rawValue, "rejected: \(reason)", runID])
        }
    }
}
