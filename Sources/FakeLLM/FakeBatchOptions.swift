/// How the fake server's batch APIs (Anthropic Message Batches, OpenAI Batch) behave. Each
/// request of a batch is answered by the server's handler, as a real-time request with the
/// same body would be: a `FakeReply.text` or `.blocks` succeeds, an `.error` is an errored
/// request (its status and message in the result); `expire` chooses requests that expire.
///
///     server.setBatchOptions(FakeBatchOptions(turnaround: .seconds(2)))
public struct FakeBatchOptions: Sendable {
    /// From a batch's creation to its end: until then it is in progress and has no results.
    public var turnaround: Duration
    /// Whether a request (by its `custom_id`, and its body as a real-time request) expires
    /// instead of being answered.
    public var expire: @Sendable (_ customID: String, _ request: FakeRequest) -> Bool
    /// The most requests one batch may hold (Anthropic 100,000; OpenAI 50,000).
    public var maxRequests: Int?
    /// The most bytes one batch may hold (Anthropic 256 MB of request body; OpenAI 200 MB of file).
    public var maxBytes: Int?

    public init(
        turnaround: Duration = .zero, maxRequests: Int? = nil, maxBytes: Int? = nil,
        expire: @escaping @Sendable (_ customID: String, _ request: FakeRequest) -> Bool = { _, _ in false }
    ) {
        self.turnaround = turnaround
        self.expire = expire
        self.maxRequests = maxRequests
        self.maxBytes = maxBytes
    }
}

/// One batch the fake server accepted, in its log of batches (`FakeLLMServer.batches`).
public struct FakeBatchRecord: Sendable {
    public enum API: Sendable, Equatable {
        case anthropic
        case openAI
    }

    public let id: String
    public let api: API
    /// The `custom_id` of each request, in the order submitted.
    public let customIDs: [String]
    /// The `model` of each request, in the same order.
    public let models: [String]
    public let createdAt: ContinuousClock.Instant
    /// Whether a cancel was asked for before it ended.
    public internal(set) var canceled = false
}
