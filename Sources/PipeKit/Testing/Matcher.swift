/// What a value is expected to be, in a test case's `expect:` or an eval's `check:`: a plain
/// value means `equals`; a mapping of matcher keys (`contains`, `matches`, `schema`, `length`,
/// `>=`, `<=`, `equals`) is every one of them; any other mapping matches an object field by
/// field.
public indirect enum Matcher: Sendable, Equatable {
    case equals(JSONValue)
    /// A substring of a string, an element of an array, a key of an object.
    case contains(JSONValue)
    /// An ECMA-262 regular expression a string matches somewhere.
    case matches(String)
    /// A JSON Schema the value is valid against.
    case schema(JSONValue)
    /// The length of a string (Unicode scalars), an array or an object.
    case length(Matcher)
    /// `>=`: a number at least this.
    case atLeast(JSONValue)
    /// `<=`: a number at most this.
    case atMost(JSONValue)
    case all([Matcher])
    /// Each named field of an object; other fields are free.
    case fields([String: Matcher])

    /// The keys of a mapping that make it a matcher rather than an object's fields.
    public static let keys = ["equals", "contains", "matches", "schema", "length", ">=", "<="]

    /// The matcher a node writes, or nil with its problems reported at their spans.
    public static func decode(_ node: YAMLNode, diagnostics: inout DiagnosticSink) -> Matcher? {
        guard let pairs = node.mapping else { return .equals(node.json) }
        if pairs.contains(where: { keys.contains($0.key.scalar ?? "") }) {
            return decode(pairs: pairs, diagnostics: &diagnostics)
        }
        var fields: [String: Matcher] = [:]
        var ok = true
        for pair in pairs {
            guard let name = pair.key.scalar, let matcher = decode(pair.value, diagnostics: &diagnostics) else { ok = false; continue }
            fields[name] = matcher
        }
        return ok ? .fields(fields) : nil
    }

    /// The matcher of mapping pairs that are all matcher keys (every one must hold).
    public static func decode(pairs: [YAMLPair], diagnostics: inout DiagnosticSink) -> Matcher? {
        var all: [Matcher] = []
        var ok = true
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            switch key {
            case "equals": all.append(.equals(value.json))
            case "contains": all.append(.contains(value.json))
            case "matches":
                guard let pattern = value.scalar, case .string = YAMLScalarValue(value) else {
                    diagnostics.report(.typeMismatch, at: value.span, "`matches` takes a regular expression (a string)", hint: "write `matches: \"^[A-Z]\"`")
                    ok = false
                    continue
                }
                if (try? ECMARegex(pattern)) == nil {
                    diagnostics.report(.invalidValue, at: value.span, "`\(pattern)` is not a valid regular expression", hint: "ECMA-262 syntax, as JSON Schema's `pattern`")
                    ok = false
                    continue
                }
                all.append(.matches(pattern))
            case "schema":
                guard value.mapping != nil || YAMLScalarValue(value) == .bool(true) || YAMLScalarValue(value) == .bool(false) else {
                    diagnostics.report(.typeMismatch, at: value.span, "`schema` takes a JSON Schema (a mapping)", hint: "write `schema: { type: string }`")
                    ok = false
                    continue
                }
                all.append(.schema(value.json))
            case "length":
                guard let inner = decode(value, diagnostics: &diagnostics) else { ok = false; continue }
                all.append(.length(inner))
            case ">=", "<=":
                guard case .number = value.json else {
                    diagnostics.report(.typeMismatch, at: value.span, "`\(key)` takes a number", hint: "write `\(key): 5`")
                    ok = false
                    continue
                }
                all.append(key == ">=" ? .atLeast(value.json) : .atMost(value.json))
            default:
                diagnostics.report(
                    .unknownKey, at: pair.key.span, "unknown matcher `\(key)`",
                    hint: Suggestions.hint(for: key, in: keys, kind: "matchers"))
                ok = false
            }
        }
        guard ok else { return nil }
        return all.count == 1 ? all[0] : .all(all)
    }

    /// Where `actual` (nil: absent) does not match, each with its path; none when it matches.
    public func check(_ actual: JSONValue?, path: String) -> [MatchFailure] {
        func fail(_ expected: String) -> [MatchFailure] {
            [MatchFailure(path: path, expected: expected, actual: actual)]
        }
        switch self {
        case .equals(let value):
            return actual == value ? [] : fail(value.serialized())
        case .contains(let value):
            switch actual {
            case .string(let text)?:
                guard case .string(let part) = value else { return fail("a value containing \(value.serialized())") }
                return text.contains(part) ? [] : fail("a string containing \(value.serialized())")
            case .array(let items)?:
                return items.contains(value) ? [] : fail("an array containing \(value.serialized())")
            case .object(let object)?:
                guard case .string(let key) = value else { return fail("an object with key \(value.serialized())") }
                return object[key] != nil ? [] : fail("an object with key \(value.serialized())")
            default:
                return fail("a string, array or object containing \(value.serialized())")
            }
        case .matches(let pattern):
            guard case .string(let text)? = actual, let regex = try? ECMARegex(pattern), regex.matches(text) else {
                return fail("a string matching /\(pattern)/")
            }
            return []
        case .schema(let schema):
            guard let actual, let compiled = try? JSONSchema(compiling: schema) else { return fail("a value valid against the schema") }
            let errors = compiled.validate(actual, maxErrors: 1)
            return errors.isEmpty ? [] : fail("a value valid against the schema (\(errors[0]))")
        case .length(let inner):
            let count: Int
            switch actual {
            case .string(let text)?: count = text.unicodeScalars.count
            case .array(let items)?: count = items.count
            case .object(let object)?: count = object.count
            default: return fail("a string, array or object (for its length)")
            }
            return inner.check(.number(JSONNumber(count)), path: "length(\(path))")
        case .atLeast(let bound), .atMost(let bound):
            guard case .number(let number)? = actual, case .number(let limit) = bound else {
                return fail("a number \(self.symbol) \(bound.serialized())")
            }
            let holds = if case .atLeast = self { !(number < limit) } else { !(limit < number) }
            return holds ? [] : fail("a number \(self.symbol) \(bound.serialized())")
        case .all(let matchers):
            return matchers.flatMap { $0.check(actual, path: path) }
        case .fields(let fields):
            guard case .object(let object)? = actual else { return fail("an object") }
            return fields.sorted { $0.key < $1.key }.flatMap { name, matcher in
                matcher.check(object[name], path: path.isEmpty ? name : "\(path).\(name)")
            }
        }
    }

    private var symbol: String {
        if case .atMost = self { return "<=" }
        return ">="
    }
}

/// A value that did not match: where, what was expected, what was there (nil: absent).
public struct MatchFailure: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var expected: String
    public var actual: JSONValue?

    public var description: String {
        "\(path): expected \(expected), got \(actual.map { renderForMessage($0) } ?? "nothing")"
    }
}
