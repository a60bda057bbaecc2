/// An RFC 6901 JSON Pointer: a sequence of reference tokens such as `/facts/0/source`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The unescaped reference tokens.
    public var tokens: [String]

    public init(tokens: [String] = []) { self.tokens = tokens }

    /// Parses pointer text (`""` is the whole document); nil when it doesn't start with `/`
    /// or has a `~` not followed by `0` or `1`.
    public init?(_ text: String) {
        if text.isEmpty { self.init(); return }
        guard text.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let token = JSONPointer.unescape(String(raw)) else { return nil }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    /// Escapes one token: `~` becomes `~0`, `/` becomes `~1`.
    public static func escape(_ token: String) -> String {
        guard token.contains(where: { $0 == "~" || $0 == "/" }) else { return token }
        return token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }

    /// Unescapes one token; nil for a `~` not followed by `0` or `1`.
    public static func unescape(_ token: String) -> String? {
        guard token.contains("~") else { return token }
        var out = ""
        var iterator = token.makeIterator()
        while let c = iterator.next() {
            if c == "~" {
                switch iterator.next() {
                case "0": out.append("~")
                case "1": out.append("/")
                default: return nil
                }
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The pointer with `token` appended.
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }

    /// Pointer text, e.g. `/a~1b/0`; `""` for the root.
    public var description: String { tokens.map { "/" + JSONPointer.escape($0) }.joined() }

    /// The value this pointer designates in `document`, or nil when a step doesn't exist.
    /// Array tokens must be canonical decimal indices (no leading zeros, no `-`).
    public func resolve(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = JSONPointer.arrayIndex(token), index < array.count else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if token.count > 1 && token.hasPrefix("0") { return nil }
        return Int(token)
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(count)
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
