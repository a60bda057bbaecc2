import Foundation

/// One finished span, as OTLP carries it: the few fields of `opentelemetry.proto.trace.v1.Span`
/// that `pipe` fills. Ids are W3C hex text (32 and 16 digits), times nanoseconds since the epoch.
public struct OTLPSpan: Sendable {
    /// `Span.SpanKind`.
    public enum Kind: Int, Sendable {
        case `internal` = 1, server = 2, client = 3
    }

    /// `Status`: unset, or an error with its message.
    public enum Status: Sendable, Equatable {
        case unset
        case error(String)
    }

    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    /// W3C `tracestate` of the caller, carried on the run's root span.
    public var traceState: String?
    public var name: String
    public var kind: Kind
    public var start: UInt64
    public var end: UInt64
    public var attributes: [(key: String, value: OTLPValue)]
    public var status: Status

    public init(
        traceID: String, spanID: String, parentSpanID: String?, traceState: String? = nil, name: String, kind: Kind,
        start: UInt64, end: UInt64, attributes: [(key: String, value: OTLPValue)], status: Status = .unset
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.start = start
        self.end = min(max(start, end), UInt64.max)
        self.attributes = attributes
        self.status = status
    }

    /// Nanoseconds since the epoch, now.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// `time` less `duration`, in nanoseconds (never before the epoch).
    static func before(_ time: UInt64, _ duration: Duration) -> UInt64 {
        let nanoseconds = nanoseconds(duration)
        return time > nanoseconds ? time - nanoseconds : 0
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds) &* 1_000_000_000 &+ max(0, attoseconds / 1_000_000_000))
    }

    static func unixNanoseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970 * 1_000_000_000))
    }
}

/// `AnyValue`: the kinds of attribute value `pipe` writes.
public enum OTLPValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case strings([String])
}

/// What every span of a process shares: `Resource` (`service.name` and `OTEL_RESOURCE_ATTRIBUTES`)
/// and the instrumentation scope.
public struct OTLPResource: Sendable {
    public var attributes: [(key: String, value: OTLPValue)]

    public init(attributes: [(key: String, value: OTLPValue)]) {
        self.attributes = attributes
    }

    static let scopeName = "pipe"
}
