/// What a value must be, as a test file or an evaluator writes it: a plain value means
/// "equals"; a mapping of matcher names (`contains`, `matches`, `schema`, `length`, `>=`,
/// `<=`, `equals`, `fields`) applies each; any other mapping matches an object key by key.
///
/// ```yaml
/// output: { article: { contains: "heat" }, verified: true, sources: { length: { ">=": 2 } } }
/// ```
///
/// Decoded from positioned YAML (`Matcher.decode`), a matcher keeps where each part was
/// written (`.at`), so lint can point at a `contains` used on a number
/// (`typeErrors(against:path:at:)`), and a test's failure names the path it failed at
/// (`check(_:path:)`).
public indirect enum Matcher: Sendable, Hashable {
    /// The value is this one (JSON equality: `1.0 == 1`, key order ignored).
    case equals(JSONValue)
    /// A string holds this substring; an array holds this element; an object holds these
    /// members (a subset, recursively for nested objects).
    case contains(JSONValue)
    /// A string matches this ECMA-262 regular expression somewhere (as a schema `pattern`).
    case matches(String)
    /// The value is valid against this JSON Schema (compiled by the project's validator).
    case schema(JSONValue)
    /// The length of a string (Unicode code points, as `minLength`), array or object matches.
    case length(Matcher)
    /// A number at least this (`">="`).
    case atLeast(JSONNumber)
    /// A number at most this (`"<="`).
    case atMost(JSONNumber)
    /// Every one of these matches (several matcher names in one mapping).
    case all([Matcher])
    /// An object whose named members match, in the order written; other members are free.
    case fields([MatcherField])
    /// A matcher and where it was written (added by `decode`; `check` looks through it).
    case at(Span, Matcher)

    /// The names a mapping may use for matchers; any other key makes a `fields` matcher.
    public static let names = ["equals", "contains", "matches", "schema", "length", ">=", "<=", "fields"]
}

/// One member of a `fields` matcher: the member's name, its matcher, where the name stands.
public struct MatcherField: Sendable, Hashable {
    public var name: String
    public var matcher: Matcher
    public var span: Span?

    public init(_ name: String, _ matcher: Matcher, at span: Span? = nil) {
        self.name = name
        self.matcher = matcher
        self.span = span
    }
}

/// Why a value does not match, at a path (`output.article`): what was expected, what was
/// found. `description` is one line for a test report.
public struct MatchFailure: Sendable, Hashable, CustomStringConvertible {
    /// Where in the checked value: `output.sources[0].url`.
    public var path: String
    /// What the matcher wanted, in words (`a string containing "heat"`).
    public var expected: String
    /// What was there, as JSON cut to a readable length, or `nothing`.
    public var actual: String

    public init(path: String, expected: String, actual: String) {
        self.path = path
        self.expected = expected
        self.actual = actual
    }

    public var description: String { "\(path): expected \(expected), found \(actual)" }
}

// MARK: - Decoding

extension Matcher {
    /// The matcher a YAML node writes, or nil after reporting why not at the node's span.
    /// `ignoring` are keys a caller reads itself from the same mapping (an evaluator's `path`).
    public static func decode(
        _ node: YAMLNode, diagnostics: inout DiagnosticSink, ignoring: Set<String> = []
    ) -> Matcher? {
        guard let pairs = node.mapping else { return .at(node.span, .equals(node.json)) }
        let own = pairs.filter { pair in !(pair.key.scalar.map(ignoring.contains) ?? false) }
        guard !own.isEmpty else { return .at(node.span, .equals(.object(JSONObject()))) }
        let named = own.filter { pair in pair.key.scalar.map(names.contains) ?? false }
        if named.isEmpty { return decodeFields(own, at: node.span, diagnostics: &diagnostics) }
        var matchers: [Matcher] = []
        var failed = false
        for pair in own {
            let key = pair.key.scalar ?? ""
            guard names.contains(key) else {
                diagnostics.report(
                    .unknownKey, at: pair.key.span,
                    "`\(key)` is not a matcher; a mapping with matcher names (\(named.compactMap(\.key.scalar).map { "`\($0)`" }.joined(separator: ", "))) cannot also match fields",
                    hint: Suggestions.closest(to: key, in: names).map { "did you mean `\($0)`?" }
                        ?? "matchers: \(names.map { "`\($0)`" }.joined(separator: ", ")); to match a field next to them, write `fields: { \(key): ... }`")
                failed = true
                continue
            }
            guard let matcher = decodeNamed(key, pair.value, diagnostics: &diagnostics) else {
                failed = true
                continue
            }
            matchers.append(.at(pair.key.span, matcher))
        }
        if failed { return nil }
        return matchers.count == 1 ? matchers[0] : .at(node.span, .all(matchers))
    }

    private static func decodeFields(_ pairs: [YAMLPair], at span: Span, diagnostics: inout DiagnosticSink) -> Matcher? {
        var fields: [MatcherField] = []
        var failed = false
        for pair in pairs {
            guard let name = pair.key.scalar else {
                diagnostics.report(.typeMismatch, at: pair.key.span, "a field name must be a string, not \(pair.key.kindDescription)")
                failed = true
                continue
            }
            guard let matcher = decode(pair.value, diagnostics: &diagnostics) else {
                failed = true
                continue
            }
            fields.append(MatcherField(name, matcher, at: pair.key.span))
        }
        return failed ? nil : .at(span, .fields(fields))
    }

    private static func decodeNamed(_ name: String, _ value: YAMLNode, diagnostics: inout DiagnosticSink) -> Matcher? {
        switch name {
        case "equals":
            return .equals(value.json)
        case "contains":
            return .contains(value.json)
        case "matches":
            guard case .string(let pattern) = value.json else {
                diagnostics.report(.typeMismatch, at: value.span, "`matches` takes a regular expression (a string), not \(value.kindDescription)",
                    hint: "quote it: `matches: \"^[A-Z]\"`")
                return nil
            }
            do {
                _ = try ECMARegex(pattern)
            } catch {
                diagnostics.report(.invalidValue, at: value.span, "`matches` pattern \(pattern.jsonQuoted) does not compile: \(error.reason)",
                    hint: "write an ECMA-262 regular expression, as a JSON Schema `pattern`")
                return nil
            }
            return .matches(pattern)
        case "schema":
            let schema = value.json
            do {
                _ = try JSONSchema(compiling: schema)
            } catch {
                diagnostics.report(.invalidSchema, at: value.node(at: JSONPointer(error.location) ?? JSONPointer()).span,
                    "`schema` is not a valid JSON Schema: \(error.message)")
                return nil
            }
            return .schema(schema)
        case "length":
            return decode(value, diagnostics: &diagnostics).map(Matcher.length)
        case ">=", "<=":
            guard case .number(let bound) = value.json else {
                diagnostics.report(.typeMismatch, at: value.span, "`\(name)` takes a number, not \(value.kindDescription)",
                    hint: "compare strings with `matches` or `equals`, lengths with `length: { \(name): N }`")
                return nil
            }
            return name == ">=" ? .atLeast(bound) : .atMost(bound)
        case "fields":
            guard let pairs = value.mapping else {
                diagnostics.report(.typeMismatch, at: value.span, "`fields` takes a mapping of field names to matchers, not \(value.kindDescription)")
                return nil
            }
            guard case .at(_, let fields)? = decodeFields(pairs, at: value.span, diagnostics: &diagnostics) else { return nil }
            return fields
        default:
            return nil
        }
    }

    /// The same matcher with every expected value transformed (an evaluator rendering
    /// `{{ expected.verdict }}` into the value it compares with).
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> Matcher {
        switch self {
        case .equals(let value): return .equals(try transform(value))
        case .contains(let value): return .contains(try transform(value))
        case .matches, .schema, .atLeast, .atMost: return self
        case .length(let inner): return .length(try inner.mapValues(transform))
        case .all(let matchers): return .all(try matchers.map { try $0.mapValues(transform) })
        case .fields(let fields):
            return .fields(try fields.map { MatcherField($0.name, try $0.matcher.mapValues(transform), at: $0.span) })
        case .at(let span, let inner): return .at(span, try inner.mapValues(transform))
        }
    }
}

// MARK: - Checking

extension Matcher {
    /// How `actual` (nil: absent) fails this matcher, at `path`; empty when it matches.
    public func check(_ actual: JSONValue?, path: String) -> [MatchFailure] {
        func fail(_ expected: String) -> [MatchFailure] {
            [MatchFailure(path: path, expected: expected, actual: Matcher.show(actual))]
        }
        switch self {
        case .at(_, let inner):
            return inner.check(actual, path: path)
        case .equals(let expected):
            return actual == expected ? [] : fail(Matcher.show(expected))
        case .contains(let expected):
            guard let actual, Matcher.value(actual, contains: expected) else {
                switch expected {
                case .string where actual?.stringValue != nil || actual == nil: return fail("a string containing \(Matcher.show(expected))")
                case .object where actual?.objectValue != nil: return fail("an object containing \(Matcher.show(expected))")
                default: return fail("a string or list containing \(Matcher.show(expected))")
                }
            }
            return []
        case .matches(let pattern):
            guard case .string(let text)? = actual else { return fail("a string matching /\(pattern)/") }
            guard let regex = try? ECMARegex(pattern) else { return fail("a string matching /\(pattern)/ (the pattern does not compile)") }
            switch regex.match(text) {
            case .matched: return []
            case .notMatched, .cancelled: return fail("a string matching /\(pattern)/")
            case .exhausted(let reason): return fail("a string matching /\(pattern)/ (the match \(reason))")
            }
        case .schema(let document):
            guard let actual else { return fail("a value valid against the schema") }
            guard let schema = try? JSONSchema(compiling: document) else { return fail("a value valid against the schema (it does not compile)") }
            return schema.validate(actual, maxErrors: 10).map { error in
                MatchFailure(
                    path: Matcher.path(path, pointer: error.instanceLocation), expected: "a value valid against the schema",
                    actual: "\(Matcher.show(actual.value(at: error.instanceLocation))) (\(error.message))")
            }
        case .length(let inner):
            let count: Int
            switch actual {
            case .string(let text)?: count = text.unicodeScalars.count
            case .array(let items)?: count = items.count
            case .object(let object)?: count = object.count
            default: return fail("a string, list or object with a length")
            }
            return inner.check(.number(JSONNumber(count)), path: "\(path).length")
        case .atLeast(let bound):
            guard case .number(let number)? = actual, !(number < bound) else { return fail("a number >= \(bound)") }
            return []
        case .atMost(let bound):
            guard case .number(let number)? = actual, !(bound < number) else { return fail("a number <= \(bound)") }
            return []
        case .all(let matchers):
            return matchers.flatMap { $0.check(actual, path: path) }
        case .fields(let fields):
            guard case .object(let object)? = actual else {
                return fail("an object with \(fields.map { Matcher.fieldPath("", $0.name) }.joined(separator: ", "))")
            }
            return fields.flatMap { field in field.matcher.check(object[field.name], path: Matcher.fieldPath(path, field.name)) }
        }
    }

    /// Whether `actual` contains `expected`: a substring, an element, or a subset of members.
    static func value(_ actual: JSONValue, contains expected: JSONValue) -> Bool {
        switch (actual, expected) {
        case let (.string(text), .string(part)):
            return part.isEmpty || text.contains(part)
        case let (.array(items), _):
            return items.contains { $0 == expected || (subset(expected, of: $0)) }
        case (.object, .object):
            return subset(expected, of: actual)
        default:
            return false
        }
    }

    /// Whether every member of the object `part` is in the object `whole` (nested objects as subsets).
    private static func subset(_ part: JSONValue, of whole: JSONValue) -> Bool {
        guard case .object(let members) = part, case .object(let object) = whole else { return false }
        return members.allSatisfy { key, value in
            guard let found = object[key] else { return false }
            return found == value || subset(value, of: found)
        }
    }

    /// `path.name`, or `path["odd name"]` for a name that is not an identifier.
    static func fieldPath(_ path: String, _ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
        if plain { return path.isEmpty ? name : "\(path).\(name)" }
        return "\(path)[\(name.jsonQuoted)]"
    }

    /// A JSON Pointer inside the value at `path`, written as a path: `/sources/0/url` → `.sources[0].url`.
    static func path(_ path: String, pointer: String) -> String {
        guard let parsed = JSONPointer(pointer) else { return path }
        return parsed.tokens.reduce(path) { path, token in
            Int(token).map { "\(path)[\($0)]" } ?? fieldPath(path, token)
        }
    }

    /// A value as it appears in a failure: JSON, at most 200 characters.
    static func show(_ value: JSONValue?) -> String {
        guard let value else { return "nothing" }
        let text = value.serialized()
        return text.count <= 200 ? text : String(text.prefix(199)) + "…"
    }
}

extension JSONValue {
    /// The value a JSON Pointer names inside this one, if there is one.
    fileprivate func value(at pointer: String) -> JSONValue? {
        guard let parsed = JSONPointer(pointer) else { return nil }
        var value: JSONValue? = self
        for token in parsed.tokens {
            switch value {
            case .object(let object)?: value = object[token]
            case .array(let items)?: value = Int(token).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: return nil
            }
        }
        return value
    }
}

// MARK: - Typing against a schema

extension Matcher {
    /// How this matcher cannot fit values of `shape` (a stage's output schema), for lint:
    /// `contains` on a number, `>=` on a string, `length` on a boolean, a field the schema
    /// does not declare (with did-you-mean). Each at the span of the matcher (from `.at`),
    /// else at `span`. `path` names the value in messages (`output.article`).
    public func typeErrors(against shape: SchemaShape, path: String, at span: Span) -> [Diagnostic] {
        let types = Matcher.types(of: shape)
        func allows(_ wanted: [String]) -> Bool { types.map { !Set(wanted).isDisjoint(with: $0) } ?? true }
        func mismatch(_ what: String) -> [Diagnostic] {
            [Diagnostic(.typeMismatch, at: span, "\(what) cannot match `\(path)`, which is \(shape.typeDescription)",
                hint: "check the stage's output schema, or match \(path) with a matcher for \(shape.typeDescription)")]
        }
        switch self {
        case .at(let inner, let matcher):
            return matcher.typeErrors(against: shape, path: path, at: inner)
        case .equals(let value):
            let type = value.typeName == "integer" ? ["integer", "number"] : [value.typeName]
            return allows(type) ? [] : mismatch("\(Matcher.article(value.typeName)) (\(Matcher.show(value)))")
        case .contains(let value):
            var containers = ["array"]
            if case .string = value { containers.append("string") }
            if case .object = value { containers.append("object") }
            return allows(containers) ? [] : mismatch("`contains` \(Matcher.show(value))")
        case .matches:
            return allows(["string"]) ? [] : mismatch("`matches`")
        case .schema:
            return []
        case .length(let inner):
            guard allows(["string", "array", "object"]) else { return mismatch("`length`") }
            return inner.typeErrors(against: SchemaShape(["type": "integer"]), path: "\(path).length", at: span)
        case .atLeast:
            return allows(["number", "integer"]) ? [] : mismatch("`>=`")
        case .atMost:
            return allows(["number", "integer"]) ? [] : mismatch("`<=`")
        case .all(let matchers):
            return matchers.flatMap { $0.typeErrors(against: shape, path: path, at: span) }
        case .fields(let fields):
            guard allows(["object"]) else { return mismatch("a mapping of fields") }
            return fields.flatMap { field -> [Diagnostic] in
                let fieldSpan = field.span ?? span
                let fieldPath = Matcher.fieldPath(path, field.name)
                switch shape.field(field.name) {
                case .success(let inner):
                    return field.matcher.typeErrors(against: inner, path: fieldPath, at: fieldSpan)
                case .failure(.noSuchField(let known)):
                    let hint = Suggestions.closest(to: field.name, in: known).map { "did you mean `\($0)`?" }
                        ?? Suggestions.closest(to: field.name, in: Matcher.names).map { "did you mean the matcher `\($0)`?" }
                        ?? Suggestions.hint(for: field.name, in: known, kind: "fields of \(path.isEmpty ? "the value" : "`\(path)`")")
                    return [Diagnostic(.unknownField, at: fieldSpan, "`\(fieldPath)` is not in the output schema", hint: hint)]
                case .failure(.wrongType(let found)):
                    return [Diagnostic(.typeMismatch, at: fieldSpan, "`\(fieldPath)` cannot be matched: `\(path)` is \(found), not an object",
                        hint: "check the stage's output schema")]
                case .failure(.indexOutOfRange):
                    return []
                }
            }
        }
    }

    /// The JSON types a shape allows (`integer` also as `number`), or nil for any.
    private static func types(of shape: SchemaShape) -> Set<String>? {
        var all = Set<String>()
        for schema in shape.schemas {
            if SchemaShape.isUnconstrained(schema) { return nil }
            guard let types = SchemaShape.types(of: schema) else { return nil }
            all.formUnion(types)
            if types.contains("number") { all.insert("integer") }
        }
        return all
    }

    private static func article(_ type: String) -> String { SchemaShape.article(type) }
}
