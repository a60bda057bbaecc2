@testable import PipeKit
import Testing

@Suite("Provider: OpenAI strict schema subset")
struct ProviderOpenAIStrictSchemaTests {
    static func object(_ properties: JSONObject, extra: JSONObject = [:]) -> JSONValue {
        var schema: JSONObject = [
            "type": "object", "properties": .object(properties), "required": .array(properties.keys.map { .string($0) }),
            "additionalProperties": false,
        ]
        for (key, value) in extra { schema[key] = value }
        return .object(schema)
    }

    @Test func fittingSchemas() {
        let cases: [JSONValue] = [
            Self.object(["a": ["type": "string"]]),
            Self.object([:]),
            Self.object([
                "name": ["type": "string", "pattern": "^[a-z]+$", "description": "lowercase"],
                "when": ["type": "string", "format": "date-time"],
                "n": ["type": ["integer", "null"], "minimum": 0, "maximum": 10],
                "kind": ["enum": ["a", "b"]],
                "fixed": ["const": "x"],
                "tags": ["type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 5],
                "nested": Self.object(["deep": ["type": "boolean"]]),
                "either": ["anyOf": [["type": "string"], Self.object(["x": ["type": "number"]])]],
                "ref": ["$ref": "#/$defs/node"],
            ], extra: ["$defs": ["node": Self.object(["children": ["type": "array", "items": ["$ref": "#/$defs/node"]]])], "title": "T"]),
        ]
        for schema in cases {
            #expect(OpenAIStrictSchema.problem(in: schema) == nil, "\(schema)")
        }
    }

    @Test func rootMustBeAnObject() {
        #expect(OpenAIStrictSchema.problem(in: ["type": "array", "items": ["type": "string"]]) == "the root is not an object")
        #expect(OpenAIStrictSchema.problem(in: ["anyOf": [Self.object([:])]]) != nil)
        #expect(!OpenAIStrictSchema.fits(true))
    }

    @Test func everyObjectClosedAndFullyRequired() {
        #expect(OpenAIStrictSchema.problem(in: ["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]])
            == "#: an object without `additionalProperties: false`")
        #expect(OpenAIStrictSchema.problem(in: [
            "type": "object", "properties": ["a": ["type": "string"], "b": ["type": "string"]], "required": ["a"],
            "additionalProperties": false,
        ]) == "#: property `b` is not in `required`")
        #expect(OpenAIStrictSchema.problem(in: [
            "type": "object", "properties": ["a": ["type": "string"]], "required": ["a", "z"], "additionalProperties": false,
        ]) == "#: `required` names `z`, which is not a property")
        // Deep inside items, anyOf and $defs too.
        let open: JSONValue = ["type": "object", "properties": ["x": ["type": "string"]], "required": ["x"]]
        #expect(OpenAIStrictSchema.problem(in: Self.object(["list": ["type": "array", "items": open]]))
            == "#/properties/list/items: an object without `additionalProperties: false`")
        #expect(OpenAIStrictSchema.problem(in: Self.object(["u": ["anyOf": [["type": "null"], open]]]))
            == "#/properties/u/anyOf/1: an object without `additionalProperties: false`")
        #expect(OpenAIStrictSchema.problem(in: Self.object([:], extra: ["$defs": ["d": open]]))
            == "#/$defs/d: an object without `additionalProperties: false`")
        #expect(!OpenAIStrictSchema.fits(Self.object(["m": ["type": "object", "additionalProperties": ["type": "string"]]])))
    }

    @Test func unsupportedKeywordsAndValues() {
        let unsupported: [(JSONValue, String)] = [
            (["type": "string", "minLength": 1], "`minLength` is not supported"),
            (["type": "string", "format": "uri"], "format \"uri\" is not supported"),
            (["allOf": [["type": "string"]]], "`allOf` is not supported"),
            (["oneOf": [["type": "string"]]], "`oneOf` is not supported"),
            (["type": "string", "default": "x"], "`default` is not supported"),
            (["type": "array", "items": ["type": "string"], "uniqueItems": true], "`uniqueItems` is not supported"),
            (["type": "array", "prefixItems": [["type": "string"]]], "`prefixItems` is not supported"),
            (["description": "anything"], "no `type`"),
            (["type": "text"], "unknown type `text`"),
            (["$ref": "https://example.com/schema"], "`$ref` must point into `$defs`"),
            (true, "a boolean schema"),
        ]
        for (member, reason) in unsupported {
            let problem = OpenAIStrictSchema.problem(in: Self.object(["p": member]))
            #expect(problem == "#/properties/p: \(reason)", "\(member)")
        }
    }

    @Test func limits() {
        var schema: JSONValue = ["type": "string"]
        for _ in 0..<10 { schema = Self.object(["x": schema]) }
        #expect(OpenAIStrictSchema.problem(in: schema)?.contains("nested deeper than 10 levels") == true)
        let manyValues = JSONValue.array((0..<1001).map { .number(JSONNumber($0)) })
        #expect(OpenAIStrictSchema.problem(in: Self.object(["e": ["enum": manyValues]])) == "more than 1000 enum values")
    }

    @Test func wrappingKeepsDefinitionsResolvable() {
        let wrapped = ObjectRootSchema(["type": "array", "items": ["$ref": "#/$defs/t"], "$defs": ["t": ["type": "string"]], "$schema": "x"])
        #expect(wrapped.isWrapped)
        #expect(wrapped.closingWrapper == [
            "type": "object", "$defs": ["t": ["type": "string"]], "properties": ["value": ["type": "array", "items": ["$ref": "#/$defs/t"]]],
            "required": ["value"], "additionalProperties": false,
        ])
        #expect(OpenAIStrictSchema.fits(wrapped.closingWrapper))
        #expect(ObjectRootSchema(true).schema["properties"]?["value"] == [:])
        let dialect = ObjectRootSchema(Self.object(["a": ["type": "string"]], extra: ["$schema": "https://json-schema.org/draft/2020-12/schema"]))
        #expect(dialect.schema == Self.object(["a": ["type": "string"]]))
        #expect(OpenAIStrictSchema.fits(dialect.closingWrapper))
        let object = ObjectRootSchema(["type": "object"])
        #expect(!object.isWrapped)
        #expect(object.closingWrapper == ["type": "object"])
    }

    @Test func namesAreSanitised() {
        #expect(ProviderNames.sanitized("summarise") == "summarise")
        #expect(ProviderNames.sanitized("make title!") == "make_title_")
        #expect(ProviderNames.sanitized("résumé") == "r_sum_")
        #expect(ProviderNames.sanitized("") == "output")
        #expect(ProviderNames.sanitized(String(repeating: "a", count: 100)).count == 64)
        #expect(ProviderNames.sanitized("Stage-2_b") == "Stage-2_b")
        #expect(ProviderNames.sanitized(String(repeating: "b", count: 64)) == String(repeating: "b", count: 64))
        #expect(ProviderNames.sanitized("a\r\nb") == "a_b")
    }
}
