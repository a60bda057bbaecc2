extension ProviderError {
    /// A short, low-cardinality name of the error, as OpenTelemetry's `error.type` wants it: the
    /// HTTP status code, or what went wrong.
    public var kind: String {
        switch self {
        case .status(let code, _, _, _): String(code)
        case .transport: "connection_error"
        case .timedOut: "timeout"
        case .invalidResponse: "invalid_response"
        case .missingAPIKey: "missing_api_key"
        case .invalidRequest: "invalid_request"
        case .cancelled: "cancelled"
        case .circuitOpen: "circuit_open"
        }
    }
}
