extension Provider {
    /// The Anthropic Messages API; `ANTHROPIC_BASE_URL` is without `/v1`, as in the official SDK.
    public static let anthropic = Provider(
        name: "anthropic", api: API(AnthropicProvider.self, baseURLVariable: "ANTHROPIC_BASE_URL", apiKeyVariable: "ANTHROPIC_API_KEY",
            batch: BatchAPI(limits: .anthropic) { AnthropicBatchAPI(endpoint: $0) }),
        maxTemperature: 1)
}
