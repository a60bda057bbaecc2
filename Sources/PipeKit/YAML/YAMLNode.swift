/// A node of a YAML document that remembers where it was written.
///
/// The loader never throws a position away: every key and every value carries its span,
/// so a diagnostic about any part of a spec can point at it.
public struct YAMLNode: Sendable {
    public enum Kind: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    /// How a scalar was written; quoted and block scalars are always strings.
    public enum ScalarStyle: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var kind: Kind
    public var span: Span
    /// An explicit tag (`!!str`), in its full form (`tag:yaml.org,2002:str`).
    public var tag: String?
    /// How many nodes this subtree holds, itself included (bounds alias expansion).
    public var size: Int

    public init(kind: Kind, span: Span, tag: String? = nil) {
        self.kind = kind
        self.span = span
        self.tag = tag
        switch kind {
        case .scalar: size = 1
        case .sequence(let items): size = items.reduce(1) { $0 + $1.size }
        case .mapping(let pairs): size = pairs.reduce(1) { $0 + $1.key.size + $1.value.size }
        }
    }

    /// The scalar's text, when this is a scalar.
    public var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = kind { return pairs }
        return nil
    }

    /// A plain scalar that YAML's core schema reads as null (`~`, `null`, or nothing).
    public var isNull: Bool {
        guard case .scalar(let text, .plain) = kind, tag == nil else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// The value under `key`, for a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar == key }?.value
    }

    /// What kind of value this is, in words a user knows ("a string", "a mapping").
    public var kindDescription: String {
        switch kind {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar:
            switch YAMLScalarValue(self) {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            case .string: return "a string"
            }
        }
    }
}

/// One `key: value` entry of a mapping.
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A scalar read with YAML 1.2's core schema: what a plain `42`, `true` or `~` means.
public enum YAMLScalarValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)

    public init(_ node: YAMLNode) {
        guard case .scalar(let text, let style) = node.kind else {
            self = .null
            return
        }
        if let tag = node.tag {
            switch tag {
            case "tag:yaml.org,2002:str": self = .string(text); return
            case "tag:yaml.org,2002:int": self = Int(text).map(YAMLScalarValue.int) ?? .string(text); return
            case "tag:yaml.org,2002:float": self = Double(text).map(YAMLScalarValue.float) ?? .string(text); return
            case "tag:yaml.org,2002:bool": self = YAMLScalarValue.resolvePlain(text); return
            case "tag:yaml.org,2002:null": self = .null; return
            default: break
            }
        }
        guard style == .plain else {
            self = .string(text)
            return
        }
        self = YAMLScalarValue.resolvePlain(text)
    }

    static func resolvePlain(_ text: String) -> YAMLScalarValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        guard let first = text.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return .string(text) }
        if isDecimalInteger(text) {
            return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text).map(YAMLScalarValue.int)
                ?? Double(text).map(YAMLScalarValue.float) ?? .string(text)
        }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return .int(value) }
        if text.hasPrefix("0o"), let value = Int(text.dropFirst(2), radix: 8) { return .int(value) }
        if isDecimalFloat(text), let value = Double(text) { return .float(value) }
        return .string(text)
    }

    private static func isDecimalInteger(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isDecimalFloat(_ text: String) -> Bool {
        var digitsSeen = false, dotSeen = false, expSeen = false, expDigits = false
        for (i, c) in text.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if expSeen { expDigits = true } else { digitsSeen = true }
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                let previous = i == 0 ? nil : Array(text.utf8)[i - 1]
                guard i == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E") else { return false }
            case UInt8(ascii: "."):
                if dotSeen || expSeen { return false }
                dotSeen = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                if expSeen || !digitsSeen { return false }
                expSeen = true
            default:
                return false
            }
        }
        return digitsSeen && (!expSeen || expDigits)
    }
}
