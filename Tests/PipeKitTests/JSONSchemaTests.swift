import Foundation
import Testing
@testable import PipeKit

@Suite struct JSONSchemaMessageTests {
    let factSchema: JSONValue = [
        "type": "object",
        "required": ["facts", "confidence"],
        "additionalProperties": false,
        "properties": [
            "facts": [
                "type": "array",
                "maxItems": 2,
                "items": [
                    "type": "object",
                    "required": ["claim", "source"],
                    "properties": ["claim": ["type": "string", "minLength": 1], "source": ["type": "string"]],
                ],
            ],
            "confidence": ["enum": ["low", "high"]],
            "tags": ["type": "array", "items": ["type": "array", "items": ["type": "integer"]]],
        ],
    ]

    func errors(_ schema: JSONValue, _ instance: JSONValue, maxErrors: Int = 100) throws -> [String] {
        try JSONSchema(compiling: schema).validate(instance, maxErrors: maxErrors).map(\.description)
    }

    @Test func typicalErrors() throws {
        let schema = try JSONSchema(compiling: factSchema)
        let instance = try JSONParser.parse("""
        {"facts": [{"claim": "x"}, {"claim": 3, "source": "s"}, {}], "confidence": "medium", "extra": 1, "tags": [[1, "2"]]}
        """)
        let errors = schema.validate(instance)
        #expect(errors.map(\.description) == [
            "/facts: 3 items, at most 2 allowed",
            #"/facts/0: missing required property "source""#,
            "/facts/1/claim: expected string, got number 3",
            #"/facts/2: missing required property "claim""#,
            #"/facts/2: missing required property "source""#,
            #"/confidence: must be one of "low", "high", got "medium""#,
            #"/tags/0/1: expected integer, got string "2""#,
            #"(root): property "extra" is not allowed (allowed: "confidence", "facts", "tags")"#,
        ])
        #expect(errors[1].keywordLocation == "/properties/facts/items/required")
        #expect(errors[1].instanceLocation == "/facts/0")
        #expect(errors[7].keywordLocation == "/additionalProperties")
        #expect(errors[6].keywordLocation == "/properties/tags/items/items/type")
        #expect(!schema.isValid(instance))
    }

    @Test func rootTypeError() throws {
        #expect(try errors(["type": "object"], [1, 2]) == ["(root): expected object, got array of 2 items"])
        #expect(try errors(["type": ["string", "null"]], 5) == ["(root): expected string or null, got number 5"])
        #expect(try errors(["type": "integer"], 1.5) == ["(root): expected integer, got number 1.5"])
        #expect(try errors(["type": "integer"], 1.0) == [])
    }

    @Test func numericAndStringMessages() throws {
        #expect(try errors(["minimum": 5], 3) == ["(root): must be at least 5, got 3"])
        #expect(try errors(["exclusiveMaximum": 5], 5) == ["(root): must be less than 5, got 5"])
        #expect(try errors(["multipleOf": 0.01], 0.125) == ["(root): must be a multiple of 0.01, got 0.125"])
        #expect(try errors(["maxLength": 3], "abcd") == ["(root): 4 characters long, at most 3 allowed"])
        #expect(try errors(["pattern": "^[a-z]+$"], "AB") == [#"(root): must match the pattern "^[a-z]+$", got "AB""#])
        #expect(try errors(["const": "x"], "y") == [#"(root): must be "x", got "y""#])
    }

    @Test func anyOfExplainsEachAlternative() throws {
        let result = try errors(["anyOf": [["type": "string"], ["type": "object", "required": ["a"]]]], ["b": 1])
        #expect(result == [#"(root): does not match any of the 2 alternatives in anyOf: (0) expected string, got object; (1) missing required property "a""#])
        let oneOf = try errors(["oneOf": [["type": "integer"], ["minimum": 0]]], 3)
        #expect(oneOf == ["(root): matches 2 alternatives in oneOf (0, 1), exactly one is allowed"])
    }

    @Test func maxErrorsCapsTheList() throws {
        let schema = try JSONSchema(compiling: ["type": "array", "items": ["type": "string"]])
        let instance = JSONValue.array((0..<50).map { .number(JSONNumber($0)) })
        #expect(schema.validate(instance).count == 50)
        #expect(schema.validate(instance, maxErrors: 3).count == 3)
        #expect(schema.validate(instance, maxErrors: 3).map(\.instanceLocation) == ["/0", "/1", "/2"])
    }

    @Test func unevaluatedPropertiesMessage() throws {
        let schema: JSONValue = ["allOf": [["properties": ["a": true]]], "unevaluatedProperties": false]
        #expect(try errors(schema, ["a": 1, "b": 2]) == [#"(root): property "b" is not allowed (not declared by the schema)"#])
    }

    @Test func escapedPointers() throws {
        let result = try JSONSchema(compiling: ["properties": ["a/b": ["type": "string"]]]).validate(["a/b": 1])
        #expect(result.first?.instanceLocation == "/a~1b")
        #expect(result.first?.keywordLocation == "/properties/a~1b/type")
    }

    @Test func refsAppearInKeywordLocation() throws {
        let schema: JSONValue = ["$defs": ["name": ["type": "string"]], "properties": ["n": ["$ref": "#/$defs/name"]]]
        let result = try JSONSchema(compiling: schema).validate(["n": 1])
        #expect(result.first?.keywordLocation == "/properties/n/$ref/type")
    }
}

@Suite struct JSONSchemaCompileTests {
    @Test func remoteReferenceIsAnErrorNamingTheURL() {
        let schema: JSONValue = ["$ref": "https://example.com/schemas/person.json"]
        #expect {
            _ = try JSONSchema(compiling: schema)
        } throws: { error in
            guard let error = error as? SchemaError, case .unresolvableReference(_, let uri, let location) = error else { return false }
            return uri == "https://example.com/schemas/person.json" && location == "/$ref"
                && error.message.contains("https://example.com/schemas/person.json")
        }
    }

    @Test func relativeReferenceWithoutBaseIsNamedAsWritten() {
        do {
            _ = try JSONSchema(compiling: ["properties": ["a": ["$ref": "other.json#/x"]]])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == #"/properties/a/$ref: cannot resolve $ref "other.json#/x": the document is not embedded or preloaded, and schemas are never fetched from the network"#)
        }
    }

    @Test func preloadedRemotesResolve() throws {
        let options = JSONSchemaOptions(remotes: ["https://example.com/name.json": ["type": "string"]])
        let schema = try JSONSchema(compiling: ["$ref": "https://example.com/name.json"], options: options)
        #expect(schema.isValid("x"))
        #expect(!schema.isValid(1))
    }

    @Test func metaSchemaReferencesResolveOffline() throws {
        let schema = try JSONSchema(compiling: ["$ref": "https://json-schema.org/draft/2020-12/schema"])
        #expect(schema.isValid(["type": "string"]))
        #expect(!schema.isValid(["type": 12]))
        // Spelling variants resolve to the same embedded document.
        let variant = try JSONSchema(compiling: ["$ref": "https://json-schema.org/draft-07/schema#/definitions/nonNegativeInteger"])
        #expect(variant.isValid(3))
        #expect(!variant.isValid(-3))
    }

    @Test func invalidKeywordsAreSchemaErrors() {
        #expect(throws: SchemaError.invalidKeyword(keyword: "minLength", location: "/properties/a/minLength", reason: "must be a non-negative integer, got -1")) {
            try JSONSchema(compiling: ["properties": ["a": ["minLength": -1]]])
        }
        #expect(throws: SchemaError.self) { try JSONSchema(compiling: ["type": "strin"]) }
        #expect(throws: SchemaError.self) { try JSONSchema(compiling: ["pattern": "(unclosed"]) }
        #expect(throws: SchemaError.self) { try JSONSchema(compiling: 12) }
    }

    @Test func metaSchemaErrors() {
        #expect(JSONSchema.metaSchemaErrors(for: ["type": "object", "properties": ["a": ["type": "string"]]]).isEmpty)
        let errors = JSONSchema.metaSchemaErrors(for: ["type": "object", "properties": ["a": ["minLength": "3"]]])
        #expect(!errors.isEmpty)
        #expect(errors.contains { $0.instanceLocation == "/properties/a/minLength" })
        // Draft-07 documents are checked against draft-07's meta-schema.
        let draft7: JSONValue = ["$schema": "http://json-schema.org/draft-07/schema#", "items": [["type": "string"]], "additionalItems": false]
        #expect(JSONSchema.metaSchemaErrors(for: draft7).isEmpty)
        #expect(!JSONSchema.metaSchemaErrors(for: ["$schema": "http://json-schema.org/draft-07/schema#", "required": "a"]).isEmpty)
    }

    @Test func draft7Semantics() throws {
        let schema = try JSONSchema(compiling: [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": ["s": ["type": "string"]],
            "properties": [
                "pair": ["items": [["type": "integer"], ["type": "string"]], "additionalItems": false],
                // $ref overrides its siblings in draft-07: maxLength is ignored.
                "name": ["$ref": "#/definitions/s", "maxLength": 1],
            ],
            "dependencies": ["a": ["b"]],
        ])
        #expect(schema.isValid(["pair": [1, "x"], "name": "long"]))
        #expect(!schema.isValid(["pair": [1, "x", 3]]))
        #expect(!schema.isValid(["pair": ["x"]]))
        #expect(!schema.isValid(["a": 1]))
        #expect(schema.isValid(["a": 1, "b": 2]))
    }

    @Test func draft7Identifiers() throws {
        let options = JSONSchemaOptions(defaultDraft: .draft7)
        // `$id: "#name"` is a plain-name anchor; an absolute `$id` with a fragment is both a base and an anchor.
        let anchors = try JSONSchema(compiling: [
            "$id": "http://example.com/root",
            "allOf": [["$ref": "#int"], ["$ref": "http://example.com/other#pos"]],
            "definitions": [
                "a": ["$id": "#int", "type": "integer"],
                "b": ["$id": "http://example.com/other#pos", "minimum": 0],
            ],
        ], options: options)
        #expect(anchors.isValid(3))
        #expect(!anchors.isValid(-3))
        #expect(!anchors.isValid("x"))
        // A `$ref` beside an `$id` ignores the `$id`.
        let sibling = try JSONSchema(compiling: [
            "$id": "http://example.com/a/",
            "definitions": ["n": ["$id": "n.json", "type": "number"], "s": ["type": "string"]],
            "allOf": [["$id": "http://example.com/elsewhere/", "$ref": "#/definitions/s"]],
        ], options: options)
        #expect(sibling.isValid("text"))
        #expect(!sibling.isValid(1))
        // The draft-07 meta-schema is embedded.
        let meta = try JSONSchema(compiling: ["$ref": "http://json-schema.org/draft-07/schema#"], options: options)
        #expect(meta.isValid(["minLength": 1]))
        #expect(!meta.isValid(["minLength": -1]))
    }

    @Test func draft7IgnoresLaterKeywords() throws {
        let schema = try JSONSchema(compiling: [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "prefixItems": [["type": "integer"]],
            "dependentRequired": ["a": ["b"]],
            "unevaluatedProperties": false,
            "contains": ["const": 1],
            "maxContains": 1,
        ])
        #expect(schema.isValid(["x", 1, 1]))
        #expect(!schema.isValid([2]))
        #expect(schema.isValid(["a": 1]))
    }

    @Test func formatIsAnAnnotationUnlessAsserted() throws {
        let lenient = try JSONSchema(compiling: ["format": "date"])
        #expect(lenient.isValid("not a date"))
        let strict = try JSONSchema(compiling: ["format": "date"], options: JSONSchemaOptions(assertFormat: true))
        #expect(!strict.isValid("2024-02-30"))
        #expect(strict.isValid("2024-02-29"))
        #expect(strict.validate("x").first?.message == #"must be a valid date, got "x""#)
    }

    @Test func recursiveSchemasTerminate() throws {
        let tree = try JSONSchema(compiling: ["type": "object", "properties": ["children": ["type": "array", "items": ["$ref": "#"]]]])
        #expect(tree.isValid(["children": [["children": []]]]))
        #expect(!tree.isValid(["children": [["children": [1]]]]))
        // A cycle that stays on one value cannot be compiled (HostileSchemaTests); one that
        // only `$dynamicRef` makes, known at run time, stops at the evaluator's limit.
        let loop = try JSONSchema(compiling: ["$dynamicAnchor": "node", "$dynamicRef": "#node"])
        #expect(!loop.isValid(1))
        #expect(loop.validate(1).first?.message.contains("$ref cycle") == true)
        // Explaining a failed anyOf must not re-explain its own alternatives without end.
        let anyOfLoop = try JSONSchema(compiling: ["$dynamicAnchor": "node", "anyOf": [["$dynamicRef": "#node"], ["type": "string"]]])
        #expect(!anyOfLoop.isValid(1))
        #expect(anyOfLoop.validate(1).count == 1)
        // Deep instances are fine: the cycle check counts only evaluations that stay on one value.
        var deep: JSONValue = []
        for _ in 0..<500 { deep = [deep] }
        let nested = try JSONSchema(compiling: ["type": "array", "items": ["$ref": "#"]])
        #expect(nested.isValid(deep))
    }

    @Test func ecmaRegexSemantics() throws {
        let digits = try JSONSchema(compiling: ["pattern": "^\\d+$"])
        #expect(digits.isValid("123"))
        #expect(!digits.isValid("١٢٣"))  // Arabic-Indic digits are not \d in ECMA-262
        #expect(!digits.isValid("123\n"))  // $ does not match before a trailing newline
    }
}

@Suite struct SimpleRegexTests {
    /// The built-in matcher must agree with ICU (via the ECMA translation) wherever it accepts a pattern.
    @Test func agreesWithICU() throws {
        let patterns = ["^rec-[0-9]{5}$", "^[a-z][a-z0-9_-]*$", "a+b", "^\\d{2,4}$", "x.y", "^[^ab]+$", "\\w+@\\w+", "^\\s*$",
                        "colou?r", "^a{2,}$", "[\\d\\-]+", "^.*$", "ab*c", "^[A-Z]{2}-\\d+$", "é+", "^[а-я]+$"]
        let inputs = ["rec-00042", "rec-0042", "rec-000421", "abc", "a_b-c", "Abc", "aab", "b", "12", "12345", "1", "x\ny", "xzy",
                      "cd", "ab", "a@b", "  ", "", "\t", "color", "colour", "aa", "a", "1-2", "AB-12", "AB-", "éé", "привет", "\u{2028}"]
        for pattern in patterns {
            let simple = try #require(SimpleRegex(pattern), "\(pattern) should use the built-in matcher")
            let icu = try NSRegularExpressionReference(pattern)
            for input in inputs {
                #expect(simple.matches(input, stepLimit: JSONSchemaOptions.defaultPatternStepLimit) == icu.matches(input), "\(pattern) on \(input.debugDescription)")
            }
        }
        for complex in ["(a|b)", "a(?=b)", "\\bword", "[[:alpha:]]", "a*?", "\\p{L}", "a{+3}", "a{2,1}", "[z-a]"] {
            #expect(SimpleRegex(complex) == nil, "\(complex) should go to ICU")
        }
        // A pattern the built-in matcher takes is never checked by ICU: broken ones must
        // still be refused when the schema is compiled.
        for broken in ["[z-a]", "a{2,1}", "a**", "[a"] {
            #expect(throws: SchemaError.self) { try JSONSchema(compiling: ["pattern": .string(broken)]) }
        }
    }
}

/// ICU-only matching, for comparison.
private struct NSRegularExpressionReference {
    let regex: NSRegularExpression
    init(_ pattern: String) throws { regex = try NSRegularExpression(pattern: ECMARegex.translate(pattern)) }
    func matches(_ s: String) -> Bool { regex.firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil }
}

@Suite struct JSONSchemaConcurrencyTests {
    /// A compiled schema is shared by concurrent stages: ICU-backed patterns included.
    @Test func oneSchemaValidatesConcurrently() throws {
        let schema = try JSONSchema(compiling: [
            "type": "array",
            "items": ["type": "string", "pattern": "^(?:[a-z]+|\\p{Lu}{2,})$", "format": "email"],
        ], options: JSONSchemaOptions(assertFormat: true))
        let good: JSONValue = .array((0..<200).map { _ in "abc" })
        let bad: JSONValue = .array((0..<200).map { $0 % 2 == 0 ? "ABC" : "aB" })
        let expectedGood = schema.validate(good, maxErrors: 1000)
        let expectedBad = schema.validate(bad, maxErrors: 1000)
        #expect(expectedGood.count == 200 && expectedBad.count == 300)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let value = i % 2 == 0 ? good : bad
            results.record(schema.validate(value, maxErrors: 1000) == (i % 2 == 0 ? expectedGood : expectedBad))
        }
        #expect(results.allTrue)
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Bool] = []
        func record(_ value: Bool) { lock.withLock { values.append(value) } }
        var allTrue: Bool { lock.withLock { values.count == 64 && !values.contains(false) } }
    }
}
