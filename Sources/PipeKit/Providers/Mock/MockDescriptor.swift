extension Provider {
    /// The offline mock: no endpoint, no key, no model id; `ProviderFactory` answers with the
    /// run's `MockProvider`.
    public static let mock = Provider(name: "mock", api: nil, maxTemperature: nil)
}
