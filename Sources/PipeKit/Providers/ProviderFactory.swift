/// Finds the provider for a model: its endpoint and API key from the spec and the
/// environment, or the mock provider under `--mock`.
///
/// Endpoint: the model's `base_url`, else the provider's variable (`ANTHROPIC_BASE_URL`,
/// `OPENAI_BASE_URL`: as the official SDKs read them, the OpenAI one includes `/v1`, the
/// Anthropic one does not), else the public API. Key: the variable the model's
/// `api_key_env` names, else the provider's (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`); an
/// endpoint on a loopback address needs none (a key that is set is still sent). A model with a
/// `rate_limit` waits for its turn (`RateLimits`).
public struct ProviderFactory: Sendable {
    public let environment: [String: String]
    /// Nil: the shared client, started only when a real provider is needed (a `--mock` run
    /// never starts libcurl).
    let customClient: HTTPClient?
    public var client: HTTPClient { customClient ?? .shared }
    /// `--mock`: every model is replaced by the offline mock provider.
    public let forceMock: Bool
    /// One mock for the run, so that a stage's `mock:` replies are used in turn.
    let mock: MockProvider
    /// The providers made so far, by model: each of a run's calls asks for its model's.
    private let made = Locked<[ResolvedModel: any ModelProvider]>([:])

    /// - Parameter mockReplies: each stage's `mock:` values, for the mock provider.
    public init(
        environment: [String: String], client: HTTPClient? = nil, forceMock: Bool = false,
        mockReplies: [String: [JSONValue]] = [:]
    ) {
        self.environment = environment
        self.customClient = client
        self.forceMock = forceMock
        self.mock = MockProvider(replies: mockReplies)
    }

    public func provider(for model: ResolvedModel) throws(ProviderError) -> any ModelProvider {
        guard !forceMock, let api = model.provider.api, let baseURL = baseURL(for: model) else { return mock }
        if let provider = made.withLock({ $0[model] }) { return provider }
        let endpoint = ProviderEndpoint(baseURL: baseURL, apiKey: try apiKey(for: model, baseURL: baseURL), client: client)
        let provider = CircuitBreakers.shared.guarding(
            RateLimits.shared.pace(api.make(endpoint), model: model, baseURL: baseURL), model: model, baseURL: baseURL)
        made.withLock { $0[model] = provider }
        return provider
    }

    /// Where the model's API is: the spec's `base_url`, the environment, or the default; nil
    /// for a provider that calls nothing.
    public func baseURL(for model: ResolvedModel) -> String? {
        guard let api = model.provider.api else { return nil }
        if let url = model.baseURL, !url.isEmpty { return url }
        if let url = environment[api.baseURLVariable], !url.isEmpty { return url }
        return api.defaultBaseURL
    }

    /// The environment variable that holds the model's key; nil for a provider that needs none.
    public func apiKeyVariable(for model: ResolvedModel) -> String? {
        if let variable = model.apiKeyEnv, !variable.isEmpty { return variable }
        return model.provider.api?.apiKeyVariable
    }

    /// The model's key; nil when none is set and `baseURL` is on this machine.
    func apiKey(for model: ResolvedModel, baseURL: String) throws(ProviderError) -> APIKey? {
        guard let variable = apiKeyVariable(for: model) else { return nil }
        // Surrounding whitespace (a key read from a file with its newline) is not part of it.
        if let key = environment[variable]?.trimmingSpaces, !key.isEmpty { return APIKey(key) }
        if ProviderURL.isLoopback(baseURL) { return nil }
        throw .missingAPIKey(variable: variable, provider: model.provider)
    }
}
