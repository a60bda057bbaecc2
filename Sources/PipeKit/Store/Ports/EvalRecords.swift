import Foundation

/// An eval as the run store keeps it: what was measured, on which data, and its scoreboard.
public struct EvalRecord: Sendable {
    public var id: String
    public var specPath: String
    public var specHash: String
    public var testsPath: String
    public var datasetPath: String
    public var datasetHash: String
    /// The batch whose items ran the pipeline.
    public var batchID: String
    public var createdAt: Date
    /// Nil while it runs (or when it stopped before scoring).
    public var finishedAt: Date?
    /// The scoreboard's JSON (`--format json`), once finished.
    public var summary: JSONValue?

    public init(
        id: String, specPath: String, specHash: String, testsPath: String, datasetPath: String, datasetHash: String,
        batchID: String, createdAt: Date = Date(), finishedAt: Date? = nil, summary: JSONValue? = nil
    ) {
        self.id = id
        self.specPath = specPath
        self.specHash = specHash
        self.testsPath = testsPath
        self.datasetPath = datasetPath
        self.datasetHash = datasetHash
        self.batchID = batchID
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.summary = summary
    }

    /// One item scored by one evaluator.
    public struct Result: Sendable, Hashable {
        public var item: Int
        /// The item's line in the dataset: what `--compare` matches items by.
        public var line: Int
        public var evaluator: String
        public var pass: Bool
        public var score: Double?
        public var reason: String?
        /// The item's pipeline run.
        public var runID: String?

        public init(item: Int, line: Int, evaluator: String, pass: Bool, score: Double?, reason: String?, runID: String?) {
            self.item = item
            self.line = line
            self.evaluator = evaluator
            self.pass = pass
            self.score = score
            self.reason = reason
            self.runID = runID
        }
    }
}

/// The port through which `pipe eval` records evals and reads earlier ones (`--compare`,
/// `--resume`, `pipe logs`). Adopted by the embedded store (`SQLiteEvalRecords`).
public protocol EvalRecords: Sendable {
    func create(_ eval: EvalRecord) async throws(StoreError)
    /// Records an eval's results (again: a result replaces the one of the same item and evaluator).
    func record(_ results: [EvalRecord.Result], eval: String) async throws(StoreError)
    func finish(_ eval: String, summary: JSONValue) async throws(StoreError)
    /// An eval by id, unique prefix, or `last` (the latest started).
    func eval(_ reference: String) async throws(StoreError) -> EvalRecord?
    func results(of eval: String) async throws(StoreError) -> [EvalRecord.Result]
    /// The latest evals, newest first.
    func evals(limit: Int) async throws(StoreError) -> [EvalRecord]
}

/// Eval ids: `e` and a run id's shape, so they sort by start and are never taken for a run's.
public enum EvalID {
    public static func make(at date: Date = Date()) -> String { "e" + RunID.make(at: date) }
}
