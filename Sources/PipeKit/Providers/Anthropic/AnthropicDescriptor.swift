extension Provider {
    /// The Anthropic Messages API; `ANTHROPIC_BASE_URL` is without `/v1`, as in the official SDK.
    public static let anthropic = Provider(
        name: "anthropic",
        api: API(
            defaultBaseURL: AnthropicProvider.defaultBaseURL, baseURLVariable: "ANTHROPIC_BASE_URL",
            apiKeyVariable: "ANTHROPIC_API_KEY",
            make: { AnthropicProvider(baseURL: $0, apiKey: $1, client: $2) }),
        maxTemperature: 1)
}
