extension Provider {
    /// The OpenAI Chat Completions API, or any OpenAI-compatible server through `base_url`;
    /// `OPENAI_BASE_URL` includes `/v1`, as in the official SDK.
    public static let openai = Provider(
        name: "openai",
        api: API(
            defaultBaseURL: OpenAIProvider.defaultBaseURL, baseURLVariable: "OPENAI_BASE_URL",
            apiKeyVariable: "OPENAI_API_KEY",
            make: { OpenAIProvider(baseURL: $0, apiKey: $1, client: $2) }),
        maxTemperature: nil)
}
