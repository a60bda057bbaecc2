/// One request in the fake server's log.
public struct FakeLogEntry: Sendable {
    /// Unique for the server's life, even across `resetLog`.
    let id: Int
    public let request: FakeRequest
    /// When the whole request had been read.
    public let arrival: ContinuousClock.Instant
    /// When the reply was fully written, or the connection ended without one (a hang,
    /// a cut). nil while the reply is still pending.
    public internal(set) var completion: ContinuousClock.Instant?
    /// The status sent, nil until the head is written or when none was (a hang).
    public internal(set) var status: Int?
    /// Whether the whole reply was sent (false for a hang or a cut).
    public internal(set) var completed = false

    public var path: String { request.path }
    public var model: String? { request.model }
    public var headers: [(name: String, value: String)] { request.headers }
    public var body: [UInt8] { request.body }
}
