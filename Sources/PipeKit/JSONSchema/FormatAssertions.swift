/// Checks for the `format` values the validator asserts (only when asked to: by
/// `JSONSchemaOptions.assertFormat` or a meta-schema with the format-assertion vocabulary).
/// Unknown formats are annotations and always pass.
enum FormatAssertions {
    static func checker(for format: String) -> (@Sendable (String) -> Bool)? {
        nil
    }
}
