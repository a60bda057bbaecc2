/// The keys the spec format knows, by where they appear. `schemas/pipeline.schema.json`
/// describes the same format for editors; a test keeps the two in step.
enum SpecKeys {
    static let topLevel = ["version", "name", "description", "input", "models", "defaults", "budget", "tools", "stages", "output", "record"]
    static let record = ["prompts", "outputs"]
    static let input = ["schema"]
    static let settings = ["model", "fallback", "system", "max_tokens", "temperature", "retries", "timeout", "cache", "max_turns"]
    static let model = ["provider", "model", "base_url", "api_key_env", "price", "rate_limit", "batch", "max_tokens", "temperature", "timeout",
        "circuit_breaker"]
    static let circuitBreaker = ["failures", "cool_down"]
    static let price = ["input", "output", "batch_input", "batch_output"]
    static let rateLimit = ["requests_per_minute", "tokens_per_minute"]
    static let budget = ["max_tokens", "max_cost_usd", "max_duration"]
    static let stage = settings + ["prompt", "output", "needs", "for_each", "as", "concurrency", "on_item_error", "mock", "approve", "when", "loop",
        "run", "shell", "stdin", "env", "tools", "on_error",
        "pipeline", "input"]
    /// The keys only a stage that calls a model reads: an error on a command stage (`run:`).
    static let modelOnly = ["prompt", "model", "fallback", "system", "max_tokens", "temperature", "tools", "max_turns"]
    /// The keys only a command stage reads.
    static let commandOnly = ["run", "shell", "stdin", "env"]
    static let loop = ["from", "until", "max_iterations"]
    static let stageOutput = ["schema"]
    static let toolServer = ["mcp", "env", "max_result_chars"]
    static let mcp = ["command", "url", "headers"]
}
