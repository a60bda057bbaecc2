/// A provider a spec can name (`provider: anthropic`): everything the spec format, the
/// environment and `ProviderFactory` need to know about it. Each provider's folder declares
/// its value; `ProviderRegistry.all` lists them.
public struct Provider: Sendable, Hashable, CustomStringConvertible {
    /// The name a spec writes.
    public let name: String
    /// How to reach its API; nil for a provider that calls nothing (the mock).
    public let api: API?
    /// The highest `temperature` it accepts, when lower than the format's 2.
    public let maxTemperature: Double?

    /// An HTTP API: where it is, where its key is, and how to make the `ModelProvider` that
    /// calls it.
    public struct API: Sendable {
        /// Used when neither the model's `base_url` nor `baseURLVariable` is set.
        public let defaultBaseURL: String
        /// The environment variable that moves the endpoint, as the official SDK reads it.
        public let baseURLVariable: String
        /// The environment variable that holds the key, unless the model sets `api_key_env`.
        public let apiKeyVariable: String
        /// The provider for an endpoint.
        let make: @Sendable (ProviderEndpoint) -> any ModelProvider
        /// Its asynchronous batch API (`pipe batch --provider-batch`), if it has one.
        public let batch: BatchAPI?

        init<Calls: HTTPModelProvider>(
            _ provider: Calls.Type, baseURLVariable: String, apiKeyVariable: String, batch: BatchAPI? = nil
        ) {
            defaultBaseURL = provider.defaultBaseURL
            self.baseURLVariable = baseURLVariable
            self.apiKeyVariable = apiKeyVariable
            make = { provider.init(endpoint: $0) }
            self.batch = batch
        }
    }

    /// A batch API: the most one batch may hold, and how to talk to it at an endpoint.
    public struct BatchAPI: Sendable {
        public let limits: ProviderBatchLimits
        let make: @Sendable (ProviderEndpoint) -> any ProviderBatchAPI

        init(limits: ProviderBatchLimits, make: @escaping @Sendable (ProviderEndpoint) -> any ProviderBatchAPI) {
            self.limits = limits
            self.make = make
        }
    }

    /// Whether `pipe batch --provider-batch` can send its calls through a batch API.
    public var hasBatchAPI: Bool { api?.batch != nil }

    public var description: String { name }

    public static func == (a: Provider, b: Provider) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// Every provider a spec can name. Adding one is a folder under `Providers/` (its
/// `ModelProvider` and its `Provider` value) and one line here: the spec's `provider` values,
/// the lint hints, the environment variables and `ProviderFactory` follow from this list, and
/// a test keeps `schemas/pipeline.schema.json` in step with it.
public enum ProviderRegistry {
    public static let all: [Provider] = [
        .anthropic,
        .openai,
        .mock,
    ]

    /// The names a spec can write, in the order hints list them.
    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> Provider? { all.first { $0.name == name } }

    /// The variables that hold the providers' keys (`ANTHROPIC_API_KEY`, ...).
    public static var apiKeyVariables: [String] { all.compactMap(\.api?.apiKeyVariable) }

    /// The variables that move the providers' endpoints (`ANTHROPIC_BASE_URL`, ...).
    public static var baseURLVariables: [String] { all.compactMap(\.api?.baseURLVariable) }
}
