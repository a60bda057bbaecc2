import Foundation

/// A caller's W3C Trace Context (`TRACEPARENT`, `TRACESTATE` in the environment, as CI systems
/// and scripts pass it): the run continues that trace, its root span a child of the caller's.
public struct TraceParent: Sendable, Equatable {
    /// 32 lowercase hex digits.
    public var traceID: String
    /// The caller's span: 16 lowercase hex digits.
    public var spanID: String
    /// `tracestate`, passed on as it is.
    public var traceState: String?

    /// Parses `version-traceid-parentid-flags` (W3C Trace Context level 1); nil when `text`
    /// is not one (an unknown version's extra fields are allowed, as the standard says).
    public init?(_ text: String, traceState: String? = nil) {
        let text = text.trimmingCharacters(in: .whitespaces)
        let fields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, fields[0].utf8.count == 2, fields[0].utf8.allSatisfy({ Hex.nibble($0) != nil }),
            fields[0] != "ff", fields[0] == "00" ? fields.count == 4 : true,
            Hex.isID(fields[1], count: 32), Hex.isID(fields[2], count: 16),
            fields[3].utf8.count == 2, fields[3].utf8.allSatisfy({ Hex.nibble($0) != nil })
        else { return nil }
        traceID = String(fields[1])
        spanID = String(fields[2])
        let state = traceState?.trimmingCharacters(in: .whitespaces) ?? ""
        // W3C caps tracestate at 32 members of 256 characters; anything longer is dropped.
        self.traceState = state.isEmpty || state.utf8.count > 8192 ? nil : state
    }

    /// The caller's context from `TRACEPARENT` (and `TRACESTATE`); an invalid one is ignored with
    /// a warning, and the run starts a trace of its own.
    public static func fromEnvironment(_ environment: [String: String]) -> (parent: TraceParent?, warning: String?) {
        guard let text = environment["TRACEPARENT"], !text.isEmpty else { return (nil, nil) }
        if let parent = TraceParent(text, traceState: environment["TRACESTATE"]) { return (parent, nil) }
        let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
        return (
            nil,
            "pipe: TRACEPARENT `\(shown)` is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); ignored, the run starts a trace of its own"
        )
    }
}
