/// How one exchange went on the wire, for traces and benchmarks.
public struct HTTPMetrics: Sendable, Equatable {
    /// From the start of the transfer to the last byte.
    public var total: Duration
    /// Until the first response byte (time to first token, for a stream).
    public var firstByte: Duration
    /// Until the TCP (and TLS) connection was ready; zero for a reused connection.
    public var connect: Duration
    /// Whether an idle connection from the cache carried the request.
    public var reusedConnection: Bool

    public init(total: Duration = .zero, firstByte: Duration = .zero, connect: Duration = .zero, reusedConnection: Bool = false) {
        self.total = total
        self.firstByte = firstByte
        self.connect = connect
        self.reusedConnection = reusedConnection
    }
}
