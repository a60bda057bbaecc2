import Foundation

/// The port through which a batch's items are queued, claimed and finished: the embedded
/// SQLite store implements it for one machine, PostgreSQL for workers on many. `pipe batch`
/// and `pipe worker` only ever talk to this protocol.
///
/// Items are claimed under a lease: a worker renews the leases of the items it runs while
/// their calls are in flight; an item whose lease lapsed (its worker was killed) is claimed
/// again by the next worker, which resumes it from the run the last holder recorded.
public protocol WorkQueue: Sendable {
    /// Records a new batch (its spec travels with it) with no items yet.
    func create(_ batch: NewBatch) async throws(StoreError)
    /// Adds items to a batch, in input order; called in chunks for large inputs. An item
    /// already present (same batch and index) is left as it is.
    func enqueue(batch: String, items: [QueuedItem]) async throws(StoreError)
    /// Says every item is enqueued: workers stop waiting for more once the queue is empty.
    func sealBatch(_ batch: String) async throws(StoreError)

    /// Takes up to `limit` pending items (or items whose lease lapsed) of the batch, in input
    /// order, for `worker`, until `now + lease`. No two workers ever hold the same item.
    func claim(batch: String, worker: String, limit: Int, lease: Duration) async throws(StoreError) -> [Claim]
    /// Extends the leases of items `worker` holds; returns the indexes it still holds (an
    /// item missing from the answer was reclaimed by another worker: stop working on it).
    func renew(batch: String, worker: String, items: [Int], lease: Duration) async throws(StoreError) -> [Int]
    /// Records a claimed item's run as started (a new id, knowing its batch and item) and
    /// names it on the item, in one write, so that whoever claims the item next resumes that
    /// run; returns the run's id. The item's run is recorded as `running` whether or not this
    /// worker still holds the item (the item names it only if it does). Both queues queue
    /// this write ahead of the run's records and the item's finish and return at once, under
    /// an id of 48 random bits not checked first (`RunID.makeLong`).
    func startRun(_ run: NewRun, for claim: Claim) async throws(StoreError) -> String
    /// Ends an item and, given `runEnd`, its run (`result.runID`, as `RunCatalog.finishRun`
    /// records it), in one write. Returns false, and leaves the item as it is, when the worker
    /// no longer holds it (the run's end is recorded all the same).
    func finish(_ claim: Claim, result: ItemResult, runEnd: RunEnd?) async throws(StoreError) -> Bool
    /// Gives claimed items back unfinished (a worker stopping on Ctrl-C or a budget stop).
    func release(batch: String, worker: String, items: [Int]) async throws(StoreError)

    /// A batch by id, id prefix or `last`; nil when there is none.
    func batch(_ reference: String) async throws(StoreError) -> BatchInfo?
    /// Recent batches, newest first.
    func batches(limit: Int) async throws(StoreError) -> [BatchInfo]
    /// Recent batches with an item pending or running, or more to come (not sealed), newest
    /// first: what a worker looks for. Their counts of pending and running items are given,
    /// those of ended items may not be.
    func openBatches(limit: Int) async throws(StoreError) -> [BatchInfo]
    /// How many items are in each state.
    func counts(batch: String) async throws(StoreError) -> BatchCounts
    /// Ended items with `index > after` (all from the start when nil), in input order.
    func results(batch: String, after: Int?, limit: Int) async throws(StoreError) -> [ItemResult]
}

extension WorkQueue {
    public func openBatches(limit: Int) async throws(StoreError) -> [BatchInfo] {
        try await batches(limit: limit).filter(\.isOpen)
    }

    /// Ends an item. Returns false, and changes nothing, when the worker no longer holds it.
    public func finish(_ claim: Claim, result: ItemResult) async throws(StoreError) -> Bool {
        try await finish(claim, result: result, runEnd: nil)
    }
}

/// A batch as `pipe batch` submits it: the spec and its schema files travel with it, so a
/// worker runs exactly what was submitted and never reads the spec file.
public struct NewBatch: Sendable {
    public var id: String
    /// The spec file as given (for `pipe logs`).
    public var specPath: String
    public var specText: String
    /// Schema files the spec references, by the path written in the spec.
    public var schemaFiles: [String: String]
    /// SHA-256 over the spec's text and its schema files.
    public var specHash: String
    public var pipelineName: String
    public var createdAt: Date

    public init(
        id: String, specPath: String, specText: String, schemaFiles: [String: String], specHash: String,
        pipelineName: String, createdAt: Date = Date()
    ) {
        self.id = id
        self.specPath = specPath
        self.specText = specText
        self.schemaFiles = schemaFiles
        self.specHash = specHash
        self.pipelineName = pipelineName
        self.createdAt = createdAt
    }
}

/// One input of a batch: valid (queued to run) or not (ended at once as `invalid_input`).
public struct QueuedItem: Sendable {
    /// 0-based position among the input's items (lines of a `.jsonl`, rows of a `.csv`).
    public var index: Int
    /// 1-based line of the input file where the item starts.
    public var line: Int
    public var input: Result<JSONValue, InvalidInput>
    /// A valid input's JSON text as it was read (its line), which a queue keeps instead of
    /// serialising the value again; nil: serialise it.
    public var json: String?

    public init(index: Int, line: Int, input: Result<JSONValue, InvalidInput>, json: String? = nil) {
        self.index = index
        self.line = line
        self.input = input
        self.json = json
    }

    /// The text a queue keeps of a valid input (read back with `JSONParser` when the item is
    /// claimed): its line as read, or the value serialised.
    public func storedInput(_ value: JSONValue) -> String {
        json ?? value.serialized()
    }
}

/// Why an input line is not run: not JSON, or not what the spec's input schema accepts.
public struct InvalidInput: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// An item a worker holds until its lease ends.
public struct Claim: Sendable, Hashable {
    public var batch: String
    public var index: Int
    public var line: Int
    public var input: JSONValue
    public var worker: String
    /// The run a previous holder recorded for this item: resume it (its finished stages are reused).
    public var previousRunID: String?
    /// How many times the item was claimed, this claim included.
    public var claims: Int

    public init(
        batch: String, index: Int, line: Int, input: JSONValue, worker: String, previousRunID: String?, claims: Int
    ) {
        self.batch = batch
        self.index = index
        self.line = line
        self.input = input
        self.worker = worker
        self.previousRunID = previousRunID
        self.claims = claims
    }
}

/// Where an item stands.
public enum ItemStatus: String, Sendable, CaseIterable {
    case pending
    case running
    case succeeded
    case failed
    case invalidInput = "invalid_input"

    public var hasEnded: Bool {
        switch self {
        case .pending, .running: false
        case .succeeded, .failed, .invalidInput: true
        }
    }
}

/// How an item ended: one line of `pipe batch`'s results.
public struct ItemResult: Sendable {
    public var index: Int
    public var status: ItemStatus
    /// The pipeline's output, when it succeeded.
    public var output: JSONValue?
    public var runID: String?
    /// The stage that failed.
    public var stage: String?
    public var error: String?
    public var usage: TokenUsage
    public var costUSD: Double?
    /// The input's line, where the queue read it back (not part of the result line).
    public var line: Int?

    public init(
        index: Int, status: ItemStatus, output: JSONValue? = nil, runID: String? = nil, stage: String? = nil,
        error: String? = nil, usage: TokenUsage = .zero, costUSD: Double? = nil, line: Int? = nil
    ) {
        self.index = index
        self.status = status
        self.output = output
        self.runID = runID
        self.stage = stage
        self.error = error
        self.usage = usage
        self.costUSD = costUSD
        self.line = line
    }
}

/// A batch as the queue knows it: as it was submitted (its fields read through: `info.id`,
/// `info.specText`...), whether every item is enqueued, and its counts.
@dynamicMemberLookup
public struct BatchInfo: Sendable {
    public var submitted: NewBatch
    /// Every item is enqueued.
    public var sealed: Bool
    public var counts: BatchCounts

    public init(submitted: NewBatch, sealed: Bool, counts: BatchCounts) {
        self.submitted = submitted
        self.sealed = sealed
        self.counts = counts
    }

    public subscript<T>(dynamicMember field: KeyPath<NewBatch, T>) -> T { submitted[keyPath: field] }

    /// An item is pending or running, or more may come (the batch is not sealed).
    public var isOpen: Bool { !sealed || counts.pending + counts.running > 0 }
}

extension NewBatch {
    /// The schema files as the queues store them: one JSON object, path to text, in path order.
    var schemaFilesJSON: String {
        JSONValue.object(JSONObject(schemaFiles.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })).serialized()
    }

    /// The schema files read back from `schemaFilesJSON` (none from text that is not such an object).
    static func schemaFiles(fromJSON text: String?) -> [String: String] {
        var files: [String: String] = [:]
        if case .object(let object) = text.flatMap({ try? JSONParser.parse($0) }) {
            for (path, content) in object {
                if case .string(let text) = content { files[path] = text }
            }
        }
        return files
    }
}

/// How many of a batch's items are in each state.
public struct BatchCounts: Sendable, Hashable {
    public var pending = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var invalidInput = 0

    public init(pending: Int = 0, running: Int = 0, succeeded: Int = 0, failed: Int = 0, invalidInput: Int = 0) {
        self.pending = pending
        self.running = running
        self.succeeded = succeeded
        self.failed = failed
        self.invalidInput = invalidInput
    }

    public var total: Int { pending + running + succeeded + failed + invalidInput }
    public var ended: Int { succeeded + failed + invalidInput }
}

extension BatchCounts {
    /// How many items are in `status`.
    public subscript(status: ItemStatus) -> Int {
        get {
            switch status {
            case .pending: pending
            case .running: running
            case .succeeded: succeeded
            case .failed: failed
            case .invalidInput: invalidInput
            }
        }
        set {
            switch status {
            case .pending: pending = newValue
            case .running: running = newValue
            case .succeeded: succeeded = newValue
            case .failed: failed = newValue
            case .invalidInput: invalidInput = newValue
            }
        }
    }
}
