/// Where an HTTP provider's calls go: its API's base URL, the key (nil for a local server that
/// needs none) and the client that sends them. `ProviderFactory` finds the first two.
struct ProviderEndpoint: Sendable {
    let baseURL: String
    let apiKey: APIKey?
    let client: HTTPClient
}

/// A `ModelProvider` that calls an HTTP API: made from an endpoint alone, through its
/// `Provider.API` (`Provider.API(AnthropicProvider.self, ...)`).
protocol HTTPModelProvider: ModelProvider {
    /// The public API's base URL, used when neither the spec nor the environment moves it.
    static var defaultBaseURL: String { get }
    /// The `Provider` it calls, named in its errors.
    static var provider: Provider { get }
    /// The header that carries a key.
    static func keyHeader(_ key: APIKey) -> (name: String, value: String)
    var endpoint: ProviderEndpoint { get }
    init(endpoint: ProviderEndpoint)
}

extension HTTPModelProvider {
    init(baseURL: String = Self.defaultBaseURL, apiKey: APIKey?, client: HTTPClient = .shared) {
        self.init(endpoint: ProviderEndpoint(baseURL: baseURL, apiKey: apiKey, client: client))
    }

    var baseURL: String { endpoint.baseURL }
    var apiKey: APIKey? { endpoint.apiKey }
    var client: HTTPClient { endpoint.client }

    /// Its errors, the key redacted.
    var mapper: ProviderErrorMapper { ProviderErrorMapper(provider: Self.provider, apiKey: apiKey) }

    /// Posts `body` to `url` for `request`: JSON, asking for an event stream, with the API's
    /// own `headers` and the key's; returns the reply read.
    func stream<Reader: StreamedReplyReader>(
        _ body: JSONValue, to url: String, headers: HTTPHeaders = [:], for request: ModelRequest,
        progress: @escaping @Sendable (StreamProgress) -> Void
    ) async throws(ProviderError) -> Reader {
        if Task.isCancelled { throw .cancelled }
        var all = HTTPHeaders([("content-type", "application/json"), ("accept", "text/event-stream")] + headers.fields)
        if let apiKey {
            let header = Self.keyHeader(apiKey)
            all.set(name: header.name, value: header.value)
        }
        let httpRequest = HTTPRequest(url: url, headers: all, body: body.serialized(), timeout: request.timeout,
            maxResponseBytes: ReplyLimit.bodyBytes(maxTokens: request.maxTokens))
        return try await StreamingCall.run(httpRequest, client: client, mapper: mapper, reader: Reader.self, live: request.liveProgress,
            progress: progress)
    }
}
