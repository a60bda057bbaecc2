/// An API key. It prints, dumps and reflects as `<redacted>`, so a provider or a
/// request that holds one can be logged without leaking it; only `value` gives it away,
/// and only the code that builds the HTTP header reads it.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
