import Foundation

/// JSON encoding for the reply bodies, and the token estimate they report.
enum JSON {
    /// Compact JSON text with sorted keys.
    static func text(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `text` parsed as JSON, or `text` itself as a string when it is not JSON.
    static func value(_ text: String) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
    }
}

enum Tokens {
    /// About four bytes a token, at least one.
    static func estimate(_ text: String) -> Int {
        max(1, (text.utf8.count + 3) / 4)
    }

    /// `text` in pieces of `size` characters (never splitting a character).
    static func pieces(of text: String, size: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count >= size {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
