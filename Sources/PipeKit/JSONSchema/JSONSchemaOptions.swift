/// How a schema is compiled.
public struct JSONSchemaOptions: Sendable {
    /// Check `format` values (date-time, email, ipv4, ...) instead of treating them as annotations.
    public var assertFormat: Bool
    /// The dialect used when a schema has no `$schema`.
    public var defaultDraft: JSONSchemaDraft
    /// Documents that `$ref` may point to, by URI. Nothing is ever fetched from the network.
    public var remotes: [String: JSONValue]
    /// The URI the root schema is known by (where relative `$id`s and `$ref`s resolve from).
    public var baseURI: String?
    /// The most steps one `pattern` match may take (a character scanned or a backtracking
    /// state saved); a value that needs more is invalid.
    public var patternStepLimit: Int

    public static let defaultPatternStepLimit = 10_000_000

    public init(
        assertFormat: Bool = false,
        defaultDraft: JSONSchemaDraft = .draft2020_12,
        remotes: [String: JSONValue] = [:],
        baseURI: String? = nil,
        patternStepLimit: Int = JSONSchemaOptions.defaultPatternStepLimit
    ) {
        self.assertFormat = assertFormat
        self.defaultDraft = defaultDraft
        self.remotes = remotes
        self.baseURI = baseURI
        self.patternStepLimit = patternStepLimit
    }
}
