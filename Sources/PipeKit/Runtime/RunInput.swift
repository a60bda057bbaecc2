/// The pipeline's input: raw text for a string input schema (or none), JSON otherwise.
public enum RunInput {
    public enum Problem: Error, Sendable, CustomStringConvertible {
        case notJSON(JSONParseError)
        case invalid([ValidationError])
        case notText

        public var description: String {
            switch self {
            case .notJSON(let error):
                "the input is not JSON (the input schema is not a string schema): line \(error.line), column \(error.column): \(error.message)"
            case .invalid(let errors):
                "the input does not match the input schema:\n" + errors.map { "  \($0)" }.joined(separator: "\n")
            case .notText:
                "the input is not UTF-8 text"
            }
        }
    }

    /// Whether the input is read as raw text.
    public static func isText(_ schema: JSONValue?) -> Bool {
        guard let schema else { return true }
        return schema["type"]?.stringValue == "string"
    }

    /// Reads and validates the input. Raw text loses one trailing newline (what `echo` adds).
    public static func read(_ bytes: [UInt8], schema: JSONValue?, validator: JSONSchema?) throws(Problem) -> JSONValue {
        let value: JSONValue
        if isText(schema) {
            guard var text = String(validating: bytes, as: UTF8.self) else { throw .notText }
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            value = .string(text)
        } else {
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                throw .notJSON(error)
            }
        }
        if let validator {
            let errors = validator.validate(value, maxErrors: 20)
            if !errors.isEmpty { throw .invalid(errors) }
        }
        return value
    }
}
