/// One way an instance fails its schema.
///
/// `description` is `INSTANCE: MESSAGE`, where the instance location is a JSON Pointer and the
/// document root is written `(root)`: `/facts/0: missing required property "source"`,
/// `(root): expected object, got array of 2 items`.
public struct ValidationError: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer to the failing value in the instance; `""` for the root.
    public let instanceLocation: String
    /// JSON Pointer to the failing keyword along the evaluation path, `$ref`s included,
    /// e.g. `/properties/facts/items/required`.
    public let keywordLocation: String
    /// One line saying what was expected and what was found.
    public let message: String

    /// How the root instance location is shown in `description`.
    public static let rootLabel = "(root)"

    public var description: String {
        "\(instanceLocation.isEmpty ? Self.rootLabel : instanceLocation): \(message)"
    }
}
