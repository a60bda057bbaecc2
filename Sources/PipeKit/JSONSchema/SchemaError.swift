/// Why a schema cannot be compiled. `location` is a JSON Pointer into the schema document
/// (or a URI for a referenced document); `message` is a one-line explanation.
public enum SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `$ref` or `$dynamicRef` points to a document that is neither embedded nor preloaded.
    case unresolvableReference(reference: String, resolvedURI: String, location: String)
    /// A `$ref` points into a known document, but to something that does not exist there.
    case missingReferenceTarget(reference: String, resolvedURI: String, location: String)
    /// A keyword has a value of the wrong shape (e.g. `"minLength": -1`, `"required": "a"`).
    case invalidKeyword(keyword: String, location: String, reason: String)
    /// A `pattern` or `patternProperties` key is not a usable regular expression.
    case invalidPattern(pattern: String, location: String, reason: String)
    /// A schema is neither an object nor a boolean.
    case notASchema(location: String, found: String)
    /// Subschemas apply one another to the same value in a cycle (`{"$ref": "#"}`): evaluating
    /// them would never reach a value. `chain` names the subschemas, the first one again last.
    case referenceCycle(chain: [String], location: String)

    /// Where in the schema the problem is.
    public var location: String {
        switch self {
        case .unresolvableReference(_, _, let location), .missingReferenceTarget(_, _, let location),
             .invalidKeyword(_, let location, _), .invalidPattern(_, let location, _), .notASchema(let location, _),
             .referenceCycle(_, let location):
            return location
        }
    }

    /// A one-line explanation naming what is wrong.
    public var message: String {
        switch self {
        case let .unresolvableReference(reference, resolved, _):
            let shown = reference == resolved ? "\"\(reference)\"" : "\"\(reference)\" (\(resolved))"
            return "cannot resolve $ref \(shown): the document is not embedded or preloaded, and schemas are never fetched from the network"
        case let .missingReferenceTarget(reference, resolved, _):
            let shown = reference == resolved ? "\"\(reference)\"" : "\"\(reference)\" (\(resolved))"
            return "$ref \(shown) points to nothing in its document"
        case let .invalidKeyword(keyword, _, reason):
            return "invalid \"\(keyword)\": \(reason)"
        case let .invalidPattern(pattern, _, reason):
            return "invalid regular expression \(pattern.jsonQuoted): \(reason)"
        case let .notASchema(_, found):
            return "a schema must be an object or a boolean, found \(found)"
        case let .referenceCycle(chain, _):
            return "$ref cycle \(chain.joined(separator: " → ")) never reaches a value, so nothing can be validated against it"
        }
    }

    /// `location: message` (location `(root)` for the schema root).
    public var description: String { "\(location.isEmpty ? "(root)" : location): \(message)" }
}
