import Testing
@testable import PipeKit

/// What lint says about a reference into a schema is what the validator says about the
/// replies at run time: lint matches `patternProperties` with the validator's ECMA-262
/// regexes, and follows `$ref`s with the validator's resolver.
@Suite struct LintAgreesWithValidatorTests {
    /// A spec whose stage `s` has `schema` for output, and stage `t` reads `{{ s<path> }}`.
    static func lint(schema: JSONValue, reading path: String) -> [Diagnostic] {
        let spec = """
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              s:
                prompt: "Answer"
                output: { schema: \(schema.serialized()) }
              t:
                prompt: 'Use {{ s\(path) }}'

            """
        return Compiler.compile(SourceFile(path: "spec.yaml", text: spec), directory: "/nonexistent").diagnostics
    }

    static func isValid(_ reply: JSONValue, against schema: JSONValue) throws -> Bool {
        try JSONSchema(compiling: schema).isValid(reply)
    }

    struct PatternCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var name: String
        /// Whether the pattern matches the name in ECMA-262 (JSON Schema's dialect).
        var matches: Bool
        var testDescription: String { "\(pattern) on \(name)" }
    }

    /// The first two are patterns ICU (`NSRegularExpression`) matches but ECMA-262 does not:
    /// lint used to accept the field that every reply is then rejected for.
    @Test(arguments: [
        PatternCase(pattern: #"^\w+$"#, name: "café", matches: false),  // ECMA's \w is ASCII
        PatternCase(pattern: #"^\d+$"#, name: "١٢", matches: false),  // ECMA's \d is ASCII
        PatternCase(pattern: #"^\w+$"#, name: "cafe", matches: true),
        PatternCase(pattern: #"^[a-zé]+$"#, name: "café", matches: true),
    ])
    func patternPropertiesMatchAsAtRunTime(_ test: PatternCase) throws {
        let schema: JSONValue = [
            "type": "object", "additionalProperties": false,
            "patternProperties": [test.pattern: ["type": "object", "properties": ["n": ["type": "integer"]]]],
        ]
        let diagnostics = Self.lint(schema: schema, reading: "[\"\(test.name)\"].n")
        let accepted = try Self.isValid([test.name: ["n": 1]], against: schema)
        #expect(accepted == test.matches)
        #expect(diagnostics.isEmpty == accepted, "\(diagnostics)")
        if !test.matches {
            #expect(diagnostics.map(\.rule) == [.unknownField])
            #expect(diagnostics.first?.message == "`s` has no field `\(test.name)` in its schema")
        }
    }

    struct ReferenceCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// A schema whose property `f` is a `$ref`.
        var schema: JSONValue
        /// Whether `f` is an object with the field `deep` (else a string).
        var hasDeep: Bool
        var testDescription: String { name }
    }

    static let deep: JSONValue = ["type": "object", "properties": ["deep": ["type": "integer"]]]

    /// The first three are references lint could not follow (it then allowed anything) or
    /// followed to another schema than the validator does.
    @Test(arguments: [
        ReferenceCase(
            name: "a pointer inside a nested `$id` resource is relative to it",
            schema: [
                "type": "object", "properties": ["f": ["$ref": "item.json"]],
                "$defs": ["t": deep, "item": ["$id": "item.json", "$ref": "#/$defs/t", "$defs": ["t": ["type": "string"]]]],
            ], hasDeep: false),
        ReferenceCase(
            name: "a draft-07 anchor (`$id: #name`)",
            schema: [
                "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": ["f": ["$ref": "#s"]],
                "definitions": ["s": ["$id": "#s", "type": "string"]],
            ], hasDeep: false),
        ReferenceCase(
            name: "an absolute reference to the schema's own `$id`",
            schema: [
                "$id": "https://example.com/s.json", "type": "object",
                "properties": ["f": ["$ref": "https://example.com/s.json#/$defs/t"]], "$defs": ["t": ["type": "string"]],
            ], hasDeep: false),
        ReferenceCase(
            name: "a local pointer",
            schema: ["type": "object", "properties": ["f": ["$ref": "#/$defs/t"]], "$defs": ["t": deep]], hasDeep: true),
        ReferenceCase(
            name: "an escaped pointer",
            schema: ["type": "object", "properties": ["f": ["$ref": "#/$defs/a~1b"]], "$defs": ["a/b": ["type": "string"]]],
            hasDeep: false),
        ReferenceCase(
            name: "a 2020-12 anchor",
            schema: ["type": "object", "properties": ["f": ["$ref": "#t"]], "$defs": ["t": ["$anchor": "t", "type": "string"]]],
            hasDeep: false),
    ])
    func referencesLeadWhereTheValidatorGoes(_ test: ReferenceCase) throws {
        let diagnostics = Self.lint(schema: test.schema, reading: ".f.deep")
        #expect(try Self.isValid(["f": ["deep": 1]], against: test.schema) == test.hasDeep)
        #expect(try Self.isValid(["f": "text"], against: test.schema) == !test.hasDeep)
        if test.hasDeep {
            #expect(diagnostics.isEmpty, "\(diagnostics)")
        } else {
            #expect(diagnostics.map(\.message) == ["`s.f` is a string, so it has no field `deep`"])
        }
    }

    /// A `for_each` stage's value is a list of its outputs: a `$ref` in its schema still
    /// points into that schema (it pointed into the list around it, and lint allowed anything).
    @Test func referencesInAForEachStagesSchemaAreFollowed() throws {
        let item: JSONValue = [
            "type": "object", "properties": ["a": ["$ref": "#/$defs/a"]],
            "$defs": ["a": ["type": "object", "additionalProperties": false, "properties": ["text": ["type": "string"]]]],
        ]
        let spec = """
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              planner:
                prompt: "Plan"
                output: { schema: { type: object, properties: { qs: { type: array, items: { type: string } } } } }
              each:
                for_each: planner.qs
                prompt: "Answer {{ item }}"
                output: { schema: \(item.serialized()) }
              last:
                prompt: "Sum up {{ each[0].a.text }} {{ each[0].a.txt }}"

            """
        let diagnostics = Compiler.compile(SourceFile(path: "spec.yaml", text: spec), directory: "/nonexistent").diagnostics
        #expect(diagnostics.map(\.message) == ["`each[0].a` has no field `txt` in its schema"])
        #expect(diagnostics.first?.hint == "did you mean `text`?")
        #expect(try !Self.isValid(["a": ["txt": "x"]], against: item))
        #expect(try Self.isValid(["a": ["text": "x"]], against: item))
    }
}
