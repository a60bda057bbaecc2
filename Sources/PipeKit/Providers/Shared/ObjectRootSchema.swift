/// A stage's output schema as an API that only accepts an object at the root sees it
/// (Anthropic's tool `input_schema`, OpenAI's `json_schema` and JSON mode).
///
/// A schema whose root is `type: object` is used as it is. Any other (an array, a string,
/// a union) is wrapped as `{type: object, properties: {value: <schema>}, required: [value]}`,
/// with its `$defs`/`definitions` hoisted to the wrapper so `#/$defs/...` references still
/// resolve, and the reply's `value` is unwrapped again. A root `$schema` is dropped.
/// (A `#` or `#/properties/...` reference into the original root would no longer
/// resolve; such schemas are rare.)
struct ObjectRootSchema: Sendable {
    /// The schema to send: an object at the root.
    let schema: JSONValue
    /// Whether `schema` wraps the stage's schema in a `value` property.
    let isWrapped: Bool
    /// The stage's own schema.
    let original: JSONValue

    static let wrapperKey = "value"

    init(_ outputSchema: JSONValue) {
        original = outputSchema
        // `$schema` only names the dialect; strict modes reject keywords they do not know.
        var root = outputSchema.objectValue ?? JSONObject()
        root["$schema"] = nil
        if outputSchema["type"]?.stringValue == "object" {
            schema = .object(root)
            isWrapped = false
            return
        }
        var inner = root
        var wrapper = JSONObject()
        wrapper["type"] = "object"
        var properties = JSONObject()
        for hoisted in ["$defs", "definitions"] {
            if let definitions = inner[hoisted] {
                wrapper[hoisted] = definitions
                inner[hoisted] = nil
            }
        }
        // A boolean schema (`true`) has no object form; `{}` means the same.
        properties[Self.wrapperKey] = outputSchema.boolValue == false ? ["not": [:]] : .object(inner)
        wrapper["properties"] = .object(properties)
        wrapper["required"] = [.string(Self.wrapperKey)]
        schema = .object(wrapper)
        isWrapped = true
    }

    /// The same wrapper with `additionalProperties: false`, as OpenAI's strict mode requires.
    var closingWrapper: JSONValue {
        guard isWrapped, case .object(var wrapper) = schema else { return schema }
        wrapper["additionalProperties"] = false
        return .object(wrapper)
    }

    /// The reply text for the stage: the JSON of `value` when the schema was wrapped and
    /// the reply is `{"value": ...}`; otherwise `text` as it is (a model that answered the
    /// bare value is fine, and anything else is left for validation to report).
    func unwrap(_ text: String) -> String {
        guard isWrapped, case .success(let value) = ReplyParser.value(of: text, structured: true),
            let object = value.objectValue, object.count == 1, let inner = object[Self.wrapperKey]
        else { return text }
        return inner.serialized()
    }
}

/// Names sent to the APIs.
enum ProviderNames {
    /// `stageName` as a tool or `json_schema` name: `^[a-zA-Z0-9_-]{1,64}$`, other
    /// characters replaced by `_`.
    static func sanitized(_ stageName: String) -> String {
        // Made for every call (three times a call of a structured stage): a name that is
        // already allowed, the usual case, is returned as it is, read as bytes, not characters.
        let bytes = stageName.utf8
        if !bytes.isEmpty, bytes.count <= 64, bytes.allSatisfy(allowedByte) { return stageName }
        func allowed(_ character: Character) -> Bool {
            guard let ascii = character.asciiValue else { return false }
            return allowedByte(ascii)
        }
        let name = String(stageName.prefix(64).map { allowed($0) ? $0 : "_" })
        return name.isEmpty ? "output" : name
    }

    private static func allowedByte(_ ascii: UInt8) -> Bool {
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// Building request URLs.
enum ProviderURL {
    /// `base` and `path` joined with exactly one `/`.
    static func join(_ base: String, _ path: String) -> String {
        var base = Substring(base)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The lowercased host of an `http(s)://` URL, without brackets, port or user info.
    static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return authority[authority.index(after: authority.startIndex)..<close].lowercased()
        }
        let host = authority.prefix { $0 != ":" }
        return host.isEmpty ? nil : host.lowercased()
    }

    /// Whether `url` points at this machine: 127.0.0.0/8, `localhost` (and `*.localhost`)
    /// or `[::1]`. Local servers (Ollama, vLLM, llama.cpp, LiteLLM) need no key.
    static func isLoopback(_ url: String) -> Bool {
        guard let host = host(of: url) else { return false }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && Int(part).map { $0 <= 255 } == true }
    }
}
