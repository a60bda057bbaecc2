/// The port through which runs are started, finished, held and read back: the embedded
/// SQLite store (`RunStore`) implements it, and a store on a server can implement it with the
/// same tables. `pipe run`, `pipe approve`, `pipe logs` and `RunLifecycle` only ever talk to
/// this protocol (and `RunApprovals`), through a store `RunStores.open` gives them.
///
/// A run is held by one process at a time (its lease): from `startRun` (or `hold`) until
/// `finishRun` (or `release`), or until the process dies. `RunRow.holder` says who holds a
/// `running` run; one that nobody holds was killed and shows as `interrupted`.
public protocol RunCatalog: Sendable {
    /// Where the runs are, for messages: a file's path.
    var location: String { get }

    /// Records a run as `running` and returns its new id; this process holds the run until
    /// `finishRun`.
    func startRun(_ run: NewRun) async throws(StoreError) -> String
    /// Records how a run ended, and lets go of it.
    func finishRun(_ id: String, _ end: RunEnd) async throws(StoreError)
    /// The journal a run writes its calls and stages through. It reuses stage outputs of the
    /// run `reusingFrom` (`--resume`; nil: none) and successful replies of any run (`--cache`).
    func journal(runID: String, reusingFrom: String?) -> any DurableJournal

    /// Holds an existing run for this process (to resume, approve or reject it). Throws
    /// `StoreError.runInUse`, naming the holder, when a process (this one included) holds it.
    func hold(_ id: String) async throws(StoreError)
    /// Lets go of a run this process holds; nothing when it holds none.
    func release(_ id: String) async

    /// `last`: the newest run (of `specPath`, if given). Otherwise an exact id, or a prefix
    /// of exactly one id (`StoreError.ambiguousRunID` for more). Nil when nothing matches.
    func resolveRunID(_ reference: String, specPath: String?) async throws(StoreError) -> String?
    /// The newest runs first (of `specPath`, if given), with who holds each `running` one.
    func runs(limit: Int, specPath: String?) async throws(StoreError) -> [RunRow]
    /// A run with its stages and calls, in the order they were recorded; nil for an unknown id.
    func run(_ id: String) async throws(StoreError) -> RunDetail?
    /// The runs a batch's items name (`pipe batch`; an item worked again names its last run),
    /// in the order they started, without their stages and calls: `pipe report BATCH` reads
    /// their durations.
    func runs(inBatch batch: String) async throws(StoreError) -> [RunRow]
}
