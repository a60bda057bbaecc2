/// One call to a model: everything a provider needs to build its HTTP request.
///
/// The runtime renders the prompt, decides retries, fallbacks and budgets; a provider makes
/// exactly one attempt and reports what happened.
public struct ModelRequest: Sendable {
    public var model: ResolvedModel
    public var system: String?
    /// The conversation: the rendered prompt, then on a re-ask the invalid reply and the
    /// validation errors.
    public var messages: [ChatMessage]
    /// The stage's output schema; nil when the stage produces text.
    public var outputSchema: JSONValue?
    /// Tools the model may call, besides the output tool a provider derives from `outputSchema`.
    public var tools: [ToolDefinition]
    /// The stage's name, used to name the forced tool or the `json_schema` (`[a-zA-Z0-9_-]`).
    public var stageName: String
    public var maxTokens: Int
    public var temperature: Double?
    /// For this attempt.
    public var timeout: Duration
    /// The run of the stage this call is for: an item of a `for_each`, a loop's iteration
    /// (the mock provider answers items by their index).
    public var unit: RunUnitID
    /// Something shows the reply as it grows (`pipe run`'s live table on a terminal): the
    /// provider reports its characters at every event. Otherwise they are reported once, at
    /// the end, and a streamed reply is read after its transfer, off the HTTP client's thread.
    public var liveProgress = false

    public init(
        model: ResolvedModel, system: String?, messages: [ChatMessage], outputSchema: JSONValue?, stageName: String,
        maxTokens: Int, temperature: Double?, timeout: Duration, unit: RunUnitID? = nil, tools: [ToolDefinition] = []
    ) {
        self.unit = unit ?? RunUnitID(stage: stageName)
        self.model = model
        self.system = system
        self.messages = messages
        self.outputSchema = outputSchema
        self.tools = tools
        self.stageName = stageName
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.timeout = timeout
    }
}

/// Tokens a call used, as the provider reported them.
public struct TokenUsage: Sendable, Hashable {
    public var input: Int
    public var output: Int

    public static let zero = TokenUsage(input: 0, output: 0)
    public var total: Int { input + output }

    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(input: a.input + b.input, output: a.output + b.output)
    }
}

/// What a model answered: its content blocks, why it stopped, and the usage.
public struct ModelReply: Sendable {
    public var content: [ContentBlock]
    public var stopReason: StopReason
    public var usage: TokenUsage
    /// The stage's answer as text, as the provider recognised it: for a structured stage the
    /// JSON text of the value (the input of the output tool, found by its name, or the JSON
    /// reply), else the text blocks. Empty when the reply only calls tools the request
    /// offered (`ModelRequest.tools`): a turn, not an answer.
    public var answerText: String
    /// The model the provider says answered (Anthropic's and OpenAI's `model` in the reply),
    /// which may name a dated version of the one requested; nil when no provider said
    /// (the mock, the cache, a cassette).
    public var model: String?

    public init(content: [ContentBlock], stopReason: StopReason, usage: TokenUsage, answerText: String, model: String? = nil) {
        self.content = content
        self.stopReason = stopReason
        self.usage = usage
        self.answerText = answerText
        self.model = model
    }

    /// The most characters of a reply's model name kept: it is the server's text.
    public static let maxModelCharacters = 200

    /// A reply's `model` member as kept: a non-empty string, cut to `maxModelCharacters`.
    static func modelName(_ value: JSONValue?) -> String? {
        guard let name = value?.stringValue, !name.isEmpty else { return nil }
        return String(name.prefix(maxModelCharacters))
    }

    /// A reply of one text block that is the answer.
    public init(text: String, usage: TokenUsage, stopReason: StopReason = .endTurn) {
        self.init(content: [.text(text)], stopReason: stopReason, usage: usage, answerText: text)
    }

    /// The tool calls of the reply, in order.
    public var toolUses: [(id: String, name: String, input: JSONValue)] {
        content.compactMap { block in
            if case .toolUse(let id, let name, let input) = block { return (id, name, input) }
            return nil
        }
    }
}

/// Progress of a call, for the live display and the trace.
public enum StreamProgress: Sendable {
    /// Characters of the reply received so far.
    case received(characters: Int)
    /// The call waits for its model's `rate_limit`, or goes after waiting.
    case rateLimit(RateLimitWait)
    /// The model's `circuit_breaker` opened, refused the call, let it go as its trial, or closed.
    case circuit(CircuitEvent)

    public init(characters: Int) { self = .received(characters: characters) }
}

/// Why a call failed. Messages never contain an API key.
public enum ProviderError: Error, Sendable, CustomStringConvertible {
    /// The provider answered with an HTTP error status.
    case status(code: Int, provider: Provider, message: String, retryAfter: Duration?)
    /// The connection failed, timed out or broke mid-stream.
    case transport(String)
    case timedOut
    /// The answer was not what the API promises (not JSON, no content...).
    case invalidResponse(String)
    /// No API key in the environment for a provider that needs one.
    case missingAPIKey(variable: String, provider: Provider)
    /// The request cannot be sent as configured (a malformed base URL, a control
    /// character in the key...): another attempt would fail the same way.
    case invalidRequest(String)
    case cancelled
    /// The model's `circuit_breaker` is open after `failures` failed calls in a row: the call
    /// was not made (the stage goes to its next model). `retryIn`: until the next trial.
    case circuitOpen(failures: Int, retryIn: Duration)

    /// Worth another attempt on the same model after a pause.
    public var isTransient: Bool {
        switch self {
        case .status(let code, _, _, _): [408, 409, 429, 500, 502, 503, 504, 529].contains(code)
        case .transport, .timedOut, .invalidResponse: true
        case .missingAPIKey, .invalidRequest, .cancelled, .circuitOpen: false
        }
    }

    public var retryAfter: Duration? {
        if case .status(_, _, _, let retryAfter) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .status(let code, let provider, let message, _):
            let advice: String
            switch code {
            case 401: advice = ": check \(provider.api?.apiKeyVariable ?? "the API key") (or the model's api_key_env)"
            case 403: advice = ": the key is not allowed to use this model"
            case 404: advice = ": check the model id and base_url"
            case 400: advice = ": the request was rejected; check the model's settings"
            case 429: advice = ": rate limited"
            default: advice = ""
            }
            return "\(code) from \(provider.name)\(advice)" + (message.isEmpty ? "" : " (\(message))")
        case .transport(let message): return "connection failed: \(message)"
        case .timedOut: return "timed out"
        case .invalidResponse(let message): return "invalid response: \(message)"
        case .missingAPIKey(let variable, let provider):
            return "no API key for \(provider.name): set \(variable), or api_key_env on the model"
        case .invalidRequest(let message): return "cannot send the request: \(message)"
        case .cancelled: return "cancelled"
        case .circuitOpen(let failures, let retryIn):
            return "not called: its circuit breaker is open after \(failures) failed call\(failures == 1 ? "" : "s") in a row"
                + (retryIn > .zero ? " (next trial in \(DurationFormat.short(retryIn)))" : " (a trial call is deciding)")
        }
    }
}

/// A model API. One call, one attempt; retries are the runtime's business.
public protocol ModelProvider: Sendable {
    func complete(_ request: ModelRequest, progress: @escaping @Sendable (StreamProgress) -> Void) async throws(ProviderError)
        -> ModelReply
}
