/// Finds the provider for a model: its endpoint and API key from the spec and the
/// environment, or the mock provider under `--mock`.
///
/// Endpoint: the model's `base_url`, else `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`
/// (as the official SDKs read them: the OpenAI one includes `/v1`, the Anthropic one
/// does not), else the public API. Key: the variable the model's `api_key_env` names,
/// else `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`; an endpoint on a loopback address needs
/// none (a key that is set is still sent).
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
        if forceMock || model.provider == .mock { return mock }
        let baseURL = baseURL(for: model)
        let apiKey = try apiKey(for: model, baseURL: baseURL)
        switch model.provider {
        case .anthropic: return AnthropicProvider(baseURL: baseURL, apiKey: apiKey, client: client)
        case .openai: return OpenAIProvider(baseURL: baseURL, apiKey: apiKey, client: client)
        case .mock: return mock
        }
    }

    /// Where the model's API is: the spec's `base_url`, the environment, or the default.
    public func baseURL(for model: ResolvedModel) -> String {
        if let url = model.baseURL, !url.isEmpty { return url }
        let (variable, fallback) =
            switch model.provider {
            case .anthropic: ("ANTHROPIC_BASE_URL", AnthropicProvider.defaultBaseURL)
            case .openai, .mock: ("OPENAI_BASE_URL", OpenAIProvider.defaultBaseURL)
            }
        if let url = environment[variable], !url.isEmpty { return url }
        return fallback
    }

    /// The environment variable that holds the model's key.
    public func apiKeyVariable(for model: ResolvedModel) -> String {
        if let variable = model.apiKeyEnv, !variable.isEmpty { return variable }
        return model.provider == .anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"
    }

    /// The model's key; nil when none is set and `baseURL` is on this machine.
    private func apiKey(for model: ResolvedModel, baseURL: String) throws(ProviderError) -> APIKey? {
        let variable = apiKeyVariable(for: model)
        // Surrounding whitespace (a key read from a file with its newline) is not part of it.
        if let key = environment[variable]?.trimmingSpaces, !key.isEmpty { return APIKey(key) }
        if ProviderURL.isLoopback(baseURL) { return nil }
        throw .missingAPIKey(variable: variable, provider: model.provider)
    }
}
