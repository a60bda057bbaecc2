/// Finds the provider for a model: its endpoint and API key from the spec and the
/// environment, or the mock provider under `--mock`.
public struct ProviderFactory: Sendable {
    public let environment: [String: String]
    public let client: HTTPClient
    /// `--mock`: every model is replaced by the offline mock provider.
    public let forceMock: Bool

    public init(environment: [String: String], client: HTTPClient = .shared, forceMock: Bool = false) {
        self.environment = environment
        self.client = client
        self.forceMock = forceMock
    }

    public func provider(for model: ResolvedModel) throws(ProviderError) -> any ModelProvider {
        if forceMock || model.provider == .mock { return MockProvider() }
        throw .invalidResponse("the \(model.provider.rawValue) provider is not built yet")
    }
}
