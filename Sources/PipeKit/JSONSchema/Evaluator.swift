/// Walks an instance through a compiled schema.
///
/// Two modes: collecting (every error up to `maxErrors`, with locations) and silent (stop at
/// the first failure, used by `isValid` and inside `anyOf`/`oneOf`/`not`/`if`/`contains`,
/// whose branches may fail without the instance being invalid).
struct Evaluator {
    let schema: CompiledSchema
    let maxErrors: Int
    var errors: [ValidationError] = []
    /// Whether failures are recorded (false: silent mode).
    var collecting: Bool
    /// Keyword path tokens from the root, `$ref`s included (tracked only while collecting).
    var keywordPath: [PathToken] = []
    /// Instance path tokens from the root (tracked only while collecting).
    var instancePath: [PathToken] = []
    /// The dynamic scope: resources entered, outermost first.
    var dynamicScope: [Int] = []
    /// Whether failure messages of anyOf/oneOf/contains/propertyNames quote the errors of their
    /// subschemas. Off inside such a quotation, so explaining stays linear in the schema's size.
    var explainsSubschemas = true
    /// Nested evaluations in all.
    private var depth = 0
    /// Nested evaluations of the same instance (through `$ref`, `allOf`, ...) since the last step
    /// into a child: a `$ref` cycle that never consumes the instance shows up here.
    private var inPlaceDepth = 0
    /// Set when a pattern match could not finish (it needed too many steps, or the task was
    /// cancelled): evaluation stops there, and this is the one error reported.
    private(set) var halted: ValidationError?

    /// Limits that turn a runaway evaluation into an error instead of a stack overflow.
    static let maxDepth = 3000
    static let maxInPlaceDepth = 128

    init(schema: CompiledSchema, maxErrors: Int, collecting: Bool) {
        self.schema = schema
        self.maxErrors = maxErrors
        self.collecting = collecting
    }

    var tracksAnnotations: Bool { schema.tracksAnnotations }

    /// True once collecting mode has as many errors as it may report.
    var isFull: Bool { collecting && errors.count >= maxErrors }

    // MARK: - Reporting

    mutating func report(_ keyword: String, _ message: String) {
        guard collecting, errors.count < maxErrors else { return }
        errors.append(ValidationError(
            instanceLocation: pointer(instancePath),
            keywordLocation: pointer(keywordPath) + (keyword.isEmpty ? "" : "/" + JSONPointer.escape(keyword)),
            message: message
        ))
    }

    /// Reports at a child instance location (e.g. a disallowed property).
    mutating func report(_ keyword: String, at child: PathToken, _ message: String) {
        instancePath.append(child)
        report(keyword, message)
        instancePath.removeLast()
    }

    /// `maxItems`, `maxProperties` (`atMost`) and the `min` ones (`atLeast`): how many there
    /// are (`count` in words), against the limit.
    mutating func checkCount(_ count: Int, atMost: Int? = nil, atLeast: Int? = nil, _ words: (Int) -> String, _ name: String) -> Bool {
        if let atMost, count > atMost {
            report(name, "\(words(count)), at most \(atMost) allowed")
            return false
        }
        if let atLeast, count < atLeast {
            report(name, "\(words(count)), at least \(atLeast) required")
            return false
        }
        return true
    }

    func pointer(_ tokens: [PathToken]) -> String {
        var out = ""
        for token in tokens { out += "/" + JSONPointer.escape(token.text) }
        return out
    }

    // MARK: - Evaluation

    /// Evaluates `node` against `instance`; on success merges the node's annotations into `annotations`.
    mutating func validate(_ node: Int, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        let schemaNode = schema.nodes[node]
        if schemaNode.keywords.isEmpty { return true }
        if halted != nil { return false }
        depth += 1
        inPlaceDepth += 1
        defer {
            depth -= 1
            inPlaceDepth -= 1
        }
        if inPlaceDepth > Self.maxInPlaceDepth {
            report("", "the schema refers to itself without consuming the value (a $ref cycle), so it cannot be evaluated")
            return false
        }
        if depth > Self.maxDepth {
            report("", "the value is nested too deeply to evaluate")
            return false
        }
        let enteredResource = dynamicScope.last != schemaNode.resource
        if enteredResource { dynamicScope.append(schemaNode.resource) }
        defer { if enteredResource { dynamicScope.removeLast() } }

        var local = Annotations()
        var valid = true
        for keyword in schemaNode.keywords {
            if !apply(keyword, instance, &local) {
                valid = false
                if !collecting || isFull { break }
            }
        }
        // A failed subschema's annotations are dropped, except while collecting errors: then every
        // in-place subschema must pass anyway, and keeping them avoids a cascade of
        // "not declared" errors from unevaluatedProperties for properties that were declared.
        if tracksAnnotations && (valid || collecting) { annotations.merge(local) }
        return valid
    }

    /// Evaluates a subschema in place (same instance), under keyword path `first`/`second`.
    mutating func validateInPlace(_ node: Int, _ instance: JSONValue, _ annotations: inout Annotations, path first: PathToken, _ second: PathToken? = nil) -> Bool {
        let tracking = collecting
        if tracking {
            keywordPath.append(first)
            if let second { keywordPath.append(second) }
        }
        defer {
            if tracking {
                keywordPath.removeLast()
                if second != nil { keywordPath.removeLast() }
            }
        }
        return validate(node, instance, &annotations)
    }

    /// Evaluates a subschema against a child instance (`instanceToken`), under keyword path `first`/`second`.
    mutating func validateChild(_ node: Int, _ child: JSONValue, instanceToken: PathToken, path first: PathToken, _ second: PathToken? = nil) -> Bool {
        let tracking = collecting
        if tracking {
            keywordPath.append(first)
            if let second { keywordPath.append(second) }
            instancePath.append(instanceToken)
        }
        defer {
            if tracking {
                keywordPath.removeLast()
                if second != nil { keywordPath.removeLast() }
                instancePath.removeLast()
            }
        }
        return validateElement(node, child)
    }

    /// Evaluates `node` against a value inside the current instance (an item, a property value,
    /// a property name): a step that consumes the instance.
    mutating func validateElement(_ node: Int, _ element: JSONValue) -> Bool {
        let savedInPlace = inPlaceDepth
        inPlaceDepth = 0
        defer { inPlaceDepth = savedInPlace }
        var ignored = Annotations()
        return validate(node, element, &ignored)
    }

    /// `validateElement` without recording errors.
    mutating func elementSilently(_ node: Int, _ element: JSONValue) -> Bool {
        let saved = collecting
        collecting = false
        defer { collecting = saved }
        return validateElement(node, element)
    }

    /// Evaluates without recording errors, keeping annotations on success.
    mutating func silently(_ node: Int, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        let saved = collecting
        collecting = false
        defer { collecting = saved }
        return validate(node, instance, &annotations)
    }

    /// The errors `node` reports for `instance` (at most `limit`), without touching this evaluator's errors.
    mutating func errors(of node: Int, _ instance: JSONValue, path tokens: [PathToken], limit: Int) -> [ValidationError] {
        var nested = Evaluator(schema: schema, maxErrors: limit, collecting: true)
        nested.keywordPath = keywordPath + tokens
        nested.instancePath = instancePath
        nested.dynamicScope = dynamicScope
        nested.depth = depth
        nested.inPlaceDepth = inPlaceDepth
        nested.explainsSubschemas = false
        var ignored = Annotations()
        _ = nested.validate(node, instance, &ignored)
        if halted == nil { halted = nested.halted }
        return nested.errors
    }

    /// Whether `regex` matches `text`. A match that cannot finish halts the evaluation.
    mutating func matches(_ regex: ECMARegex, _ text: String, keyword: String) -> Bool {
        if halted != nil { return false }
        let message: String
        switch regex.match(text) {
        case .matched: return true
        case .notMatched: return false
        case .exhausted(let reason): message = "pattern \(regex.source.jsonQuoted) \(reason); simplify it"
        case .cancelled: message = "validation was cancelled"
        }
        if halted == nil {
            halted = ValidationError(
                instanceLocation: pointer(instancePath),
                keywordLocation: pointer(keywordPath) + "/" + JSONPointer.escape(keyword), message: message)
        }
        return false
    }

    mutating func apply(_ keyword: CompiledKeyword, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        let name = keyword.name
        switch keyword.check {
        case .alwaysFail:
            if collecting {
                switch instancePath.last {
                case .key(let key)?: report(name, "property \(key.jsonQuoted) is not allowed here (its schema is false)")
                case .index(let index)?: report(name, "item \(index) is not allowed here (its schema is false)")
                case nil: report(name, "no value is allowed (the schema is false), got \(describe(instance))")
                }
            }
            return false
        case .type(let types, let expected): return checkType(types, expected, instance, name)
        case .enumeration(let values): return checkEnum(values, instance, name)
        case .const(let value): return checkConst(value, instance, name)
        case .multipleOf, .maximum, .exclusiveMaximum, .minimum, .exclusiveMinimum:
            return checkNumber(keyword.check, instance, name)
        case .maxLength, .minLength, .pattern, .format:
            return checkString(keyword.check, instance, name)
        case .maxItems, .minItems, .uniqueItems, .contains, .items, .prefixItems:
            return checkArray(keyword.check, instance, name, &annotations)
        case .unevaluatedItems(let node, let isFalse):
            return checkUnevaluatedItems(node, isFalse, instance, name, &annotations)
        case .maxProperties, .minProperties, .required, .dependentRequired, .properties, .patternProperties,
             .additionalProperties, .propertyNames, .dependentSchemas:
            return checkObject(keyword.check, instance, name, &annotations)
        case .unevaluatedProperties(let node, let isFalse):
            return checkUnevaluatedProperties(node, isFalse, instance, name, &annotations)
        case .allOf, .anyOf, .oneOf, .not, .conditional:
            return checkCombinator(keyword.check, instance, name, &annotations)
        case .ref(let node):
            return validateInPlace(node, instance, &annotations, path: .key(name))
        case .dynamicRef(let initial, let anchor):
            var target = initial
            if let anchor {
                for resource in dynamicScope {
                    if let found = schema.resources[resource].dynamicAnchors[anchor] {
                        target = found
                        break
                    }
                }
            }
            return validateInPlace(target, instance, &annotations, path: .key(name))
        }
    }
}

/// One step of a keyword or instance path; indices stay integers until an error needs text.
enum PathToken: Sendable {
    case key(String)
    case index(Int)

    var text: String {
        switch self {
        case .key(let key): return key
        case .index(let index): return String(index)
        }
    }
}

/// A short description of a value for messages: `number 5`, `string "abc"`, `array of 3 items`.
func describe(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return "boolean \(b)"
    case .number(let n): return "number \(n)"
    case .string(let s): return "string \(quoteForMessage(s))"
    case .array(let a): return a.count == 1 ? "array of 1 item" : "array of \(a.count) items"
    case .object(let o): return o.isEmpty ? "empty object" : "object"
    }
}

/// A JSON-quoted, length-limited rendering of a string for messages.
func quoteForMessage(_ s: String, limit: Int = 60) -> String {
    if s.count <= limit { return s.jsonQuoted }
    return String(s.prefix(limit)).jsonQuoted + "…"
}

/// A compact, length-limited JSON rendering of a value for messages.
func renderForMessage(_ value: JSONValue, limit: Int = 80) -> String {
    let text = value.serialized()
    return text.count <= limit ? text : String(text.prefix(limit)) + "…"
}
