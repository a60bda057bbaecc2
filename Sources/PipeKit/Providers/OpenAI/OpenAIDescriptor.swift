extension Provider {
    /// The OpenAI Chat Completions API, or any OpenAI-compatible server through `base_url`;
    /// `OPENAI_BASE_URL` includes `/v1`, as in the official SDK.
    public static let openai = Provider(
        name: "openai", api: API(OpenAIProvider.self, baseURLVariable: "OPENAI_BASE_URL", apiKeyVariable: "OPENAI_API_KEY",
            batch: BatchAPI(limits: .openAI) { OpenAIBatchAPI(endpoint: $0) }),
        maxTemperature: nil)
}
