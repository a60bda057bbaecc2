import Foundation

/// One run as `pipe logs` lists it.
public struct RunRow: Sendable {
    public var id: String
    public var specPath: String
    public var pipelineName: String
    /// As recorded; see `displayStatus` for a `running` run whose process is gone.
    public var status: RunStatus
    public var startedAt: Date
    /// Nil while the run has not finished.
    public var duration: Duration?
    public var usage: TokenUsage
    public var costUSD: Double?
    public var error: String?
    public var resumedFrom: String?
    /// The process holding it now (its lease); looked up for a `running` run only.
    public var holder: RunHolder?

    /// `interrupted` for a run still marked `running` that no process holds (it was killed
    /// before it could record its end); otherwise the recorded status.
    public var displayStatus: RunStatus {
        status == .running && holder == nil ? .interrupted : status
    }
}

/// A run with everything recorded about it.
public struct RunDetail: Sendable {
    public var row: RunRow
    public var specHash: String
    public var traceID: String
    public var input: JSONValue
    public var output: JSONValue?
    /// In the order they ended.
    public var stages: [StageRow]
    /// In the order they completed.
    public var calls: [CallRow]
    /// The tool calls of stages with `tools:`, in the order they ended.
    public var toolCalls: [ToolCallRecord] = []
}

/// How one stage of a run ended.
public struct StageRow: Sendable {
    public var stage: String
    public var status: StageReport.Status
    public var provider: String
    /// The spec's name for the model (`fast`).
    public var modelName: String
    /// The provider's model id.
    public var model: String
    public var attempts: Int
    public var usage: TokenUsage
    public var costUSD: Double?
    public var latency: Duration
    public var output: JSONValue?
    /// What a resumed run compares to reuse the stage's output; nil for a stage that called
    /// nothing of its own (skipped, waiting for approval, a `for_each` as a whole).
    public var fingerprint: String?
    /// Taken from the resumed run, without a call.
    public var reused: Bool
    public var error: String?
    /// When it ended (`pipe report` draws its bar back from it by its latency).
    public var finishedAt: Date? = nil
}

/// One model call of a run.
public struct CallRow: Sendable {
    public var stage: String
    public var attempt: Int
    public var provider: String
    public var modelName: String
    public var model: String
    /// What was sent: system, messages, schema, max_tokens, temperature (never a key or header).
    public var request: JSONValue
    public var reply: String?
    public var status: CallRecord.Status
    public var problems: [String]
    public var usage: TokenUsage
    public var costUSD: Double?
    public var latency: Duration
    public var cacheKey: String
    public var createdAt: Date
}
