import Foundation

/// Reads a model's reply as the stage's value.
public enum ReplyParser {
    /// A text stage keeps the reply as it is (trailing whitespace trimmed); a structured
    /// stage's reply is parsed as JSON, accepting a Markdown code fence around it.
    public static func value(of reply: String, structured: Bool) -> Result<JSONValue, ReplyError> {
        guard structured else { return .success(.string(reply.trimmingTrailingSpaces)) }
        let body = unfenced(reply)
        do {
            return .success(try JSONParser.parse(body))
        } catch {
            return .failure(ReplyError(message: "the reply is not JSON: \(error.line):\(error.column): \(error.message)"))
        }
    }

    public struct ReplyError: Error, Sendable {
        public var message: String
    }

    /// The content of a ```json ... ``` fence, or the text itself.
    static func unfenced(_ text: String) -> String {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix("```") else { return trimmed }
        var lines = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeFirst()
        if let last = lines.last, last.trimmingSpaces.hasPrefix("```") { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
