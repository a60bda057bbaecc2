/// What the store records when a run starts.
public struct NewRun: Sendable {
    /// The spec file; the store keeps it absolute, so `last` works from any folder.
    public var specPath: String
    /// SHA-256 of the spec's text, made where it is first read (`SpecDigest`).
    public var specHash: String { specDigest.hex }
    let specDigest: SpecDigest
    public var pipelineName: String
    public var input: JSONValue
    /// The W3C trace id (32 hex) of the run's trace events.
    public var traceID: String
    /// The run this one resumes (`--resume`), if any.
    public var resumedFrom: String?
    /// Whether the store holds the run for this process (`RunLeases`) until its end; false
    /// for a run something else holds already (a batch item's, under the batch's lease and
    /// the item's claim), which then costs no lock file.
    public var held: Bool

    public init(
        specPath: String, specHash: String, pipelineName: String, input: JSONValue, traceID: String,
        resumedFrom: String? = nil, held: Bool = true
    ) {
        self.init(
            specPath: specPath, specDigest: SpecDigest(made: specHash), pipelineName: pipelineName, input: input, traceID: traceID,
            resumedFrom: resumedFrom, held: held)
    }

    init(
        specPath: String, specDigest: SpecDigest, pipelineName: String, input: JSONValue, traceID: String, resumedFrom: String?,
        held: Bool
    ) {
        self.specPath = specPath
        self.specDigest = specDigest
        self.pipelineName = pipelineName
        self.input = input
        self.traceID = traceID
        self.resumedFrom = resumedFrom
        self.held = held
    }
}

/// A spec's SHA-256, made the first time it is read: where the store writes a run's start,
/// which for `pipe run` is the store's queue while the first call is in flight, not the
/// command's thread before that call (which would wait for OpenSSL's SHA-256 to be fetched,
/// some 3M instructions beside libcurl's start: a cost only recorded runs had). One value for
/// every run of one spec (a batch's items), hashed once.
final class SpecDigest: Sendable {
    private let text: String
    private let made: Locked<String?>

    init(text: String) {
        self.text = text
        made = Locked(nil)
    }

    init(made hex: String) {
        text = ""
        made = Locked(hex)
    }

    var hex: String { made.value { SHA256.hex(text) } }
}

/// What the store records when a run ends.
public struct RunEnd: Sendable {
    public var status: RunStatus
    public var usage: TokenUsage
    public var costUSD: Double?
    public var wall: Duration
    /// Why it failed, in words.
    public var error: String?
    /// The pipeline's output, for a run that succeeded.
    public var output: JSONValue?

    public init(
        status: RunStatus, usage: TokenUsage, costUSD: Double?, wall: Duration, error: String? = nil,
        output: JSONValue? = nil
    ) {
        self.status = status
        self.usage = usage
        self.costUSD = costUSD
        self.wall = wall
        self.error = error
        self.output = output
    }

    /// How a runner's result is recorded.
    public init(_ result: PipelineRunner.Result) {
        let priced = result.stages.contains { $0.costUSD != nil }
        self.init(status: result.outcome.status, usage: result.usage, costUSD: priced ? result.costUSD : nil, wall: result.wall)
        switch result.outcome {
        case .succeeded(let output):
            self.output = output
        case .stageFailed(let stage, let attempts, let error):
            self.error = "stage `\(stage)` failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(error)"
        case .budgetExceeded(let stage, let reason):
            self.error = stage.map { "stage `\($0)`: \(reason)" } ?? reason.description
        case .interrupted:
            self.error = "interrupted"
        case .waitingForApproval(let pending):
            self.error = "waiting for approval of " + pending.map { "`\($0.stage)`" }.joined(separator: ", ")
        }
    }
}
