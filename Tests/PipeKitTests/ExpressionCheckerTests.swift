import Testing
@testable import PipeKit

/// Stages with real schemas, typed through `SchemaShape` as the compiler does.
private let critic: JSONValue = [
    "type": "object",
    "required": ["score", "verdict", "notes", "tags", "rating", "meta"],
    "properties": [
        "score": ["type": "integer", "minimum": 0, "maximum": 10],
        "verdict": ["enum": ["approve", "reject"]],
        "notes": ["type": ["string", "null"]],
        "tags": ["type": "array", "items": ["type": "string"], "minItems": 1],
        "rating": ["anyOf": [["type": "number"], ["type": "null"]]],
        "meta": [:],
        "approved": ["type": "boolean"],
        "summary": ["type": "string"],
        "level": ["type": "string", "nullable": true],
    ],
]

private let planner: JSONValue = [
    "type": "object",
    "required": ["questions"],
    "properties": ["questions": ["type": "array", "items": ["$ref": "#/$defs/question"]]],
    "$defs": ["question": ["type": "object", "required": ["text"], "properties": ["text": ["type": "string"]]]],
]

/// What the compiler will supply: the type of a reference, nil for an unknown stage (which it
/// reports itself); `writer` may be skipped, so its values may be absent.
private func resolve(_ reference: TemplateReference) -> ExpressionType? {
    let writer: JSONValue = ["type": "object", "properties": ["done": ["type": "boolean"]], "required": ["done"]]
    let schemas: [String: JSONValue] = ["critic": critic, "planner": planner, "writer": writer]
    guard let schema = schemas[reference.root.value] else { return nil }
    let type = ExpressionType.of(reference.path, in: SchemaShape(schema))
    return reference.root.value == "writer" ? type?.optional : type
}

private func check(_ text: String, key: String? = nil) -> [Diagnostic] {
    var sink = DiagnosticSink()
    guard let e = ExpressionParser.parse(text, file: "spec.yaml", start: conditionStart, diagnostics: &sink) else {
        Issue.record("does not parse: \(text): \(sink.diagnostics)")
        return sink.diagnostics
    }
    ExpressionChecker(resolve: resolve).checkCondition(e, key: key, diagnostics: &sink)
    return sink.diagnostics
}

private func type(_ text: String) -> ExpressionType? {
    var sink = DiagnosticSink()
    guard let e = ExpressionParser.parse(text, file: "spec.yaml", start: conditionStart, diagnostics: &sink) else { return nil }
    return ExpressionChecker(resolve: resolve).check(e, diagnostics: &sink)
}

@Suite struct ExpressionTypeTests {
    func shaped(_ schema: JSONValue) -> ExpressionType { ExpressionType(shape: SchemaShape(schema)) }

    @Test func typesFromSchemaKeywords() {
        #expect(shaped(["type": "integer"]) == .number)
        #expect(shaped(["type": "number"]) == .number)
        #expect(shaped(["type": "boolean"]) == .boolean)
        #expect(shaped(["type": ["string", "null"]]).kinds == [.string, .null])
        #expect(shaped(["anyOf": [["type": "number"], ["type": "null"]]]).kinds == [.number, .null])
        #expect(shaped(["type": "string", "nullable": true]).kinds == [.string, .null])
        #expect(shaped(["properties": ["a": ["type": "string"]]]) == .object)
        #expect(shaped(["items": ["type": "string"]]) == .array)
        #expect(shaped([:]).isAny)
        #expect(shaped(true).isAny)
        #expect(shaped(["description": "anything"]).isAny)
        #expect(shaped(["anyOf": [["type": "string"], [:]]]).isAny)
    }

    @Test func constAndEnumListTheirValues() {
        let verdict = shaped(["enum": ["approve", "reject"]])
        #expect(verdict.kinds == .string)
        #expect(verdict.values == ["approve", "reject"])
        #expect(shaped(["const": 3]).values == [3])
        let mixed = shaped(["type": ["string", "null"], "enum": ["a", nil]])
        #expect(mixed.kinds == [.string, .null])
        #expect(mixed.values == ["a", nil])
        #expect(shaped(["type": "string"]).values == nil)
    }

    @Test func optionalPropertiesAndIndexesMayBeAbsent() throws {
        let shape = SchemaShape(critic)
        func path(_ text: String) throws -> [PathSegment] {
            let (e, _) = parseCondition(text)
            guard case .reference(let reference)? = e else { throw ExpressionTestError.notAReference }
            return reference.path
        }
        #expect(ExpressionType.of(try path("c.score"), in: shape) == .number)
        #expect(ExpressionType.of(try path("c.approved"), in: shape) == ExpressionType.boolean.optional)
        #expect(ExpressionType.of(try path("c.tags[0]"), in: shape) == .string)
        #expect(ExpressionType.of(try path("c.tags[1]"), in: shape) == ExpressionType.string.optional)
        #expect(ExpressionType.of(try path("c.nope"), in: shape) == nil)
        #expect(ExpressionType.of(try path("c.score.x"), in: shape) == nil)
        #expect(ExpressionType.of(try path("c.meta.anything"), in: shape)?.isAny == true)
        #expect(ExpressionType.of(try path("p.questions[0].text"), in: SchemaShape(planner)) == ExpressionType.string.optional)
    }

    @Test func typesInWords() {
        #expect(ExpressionType.string.description == "a string")
        #expect(ExpressionType(.number).optional.description == "a number, or absent")
        #expect(ExpressionType([.string, .null]).description == "a string or null")
        #expect(ExpressionType.array.description == "a list")
        #expect(ExpressionType.any.description == "a value of any type")
    }

    @Test func defaultRemovesNullAndAbsent() {
        #expect(type("critic.approved ?? false") == .boolean)
        #expect(type("critic.notes ?? 'none'") == ExpressionType(.string, values: nil))
        #expect(type("critic.notes ?? 0")?.kinds == [.string, .number])
        #expect(type("critic.rating ?? critic.notes")?.kinds == [.number, .string, .null])
        #expect(type("len(critic.tags)") == .number)
        #expect(type("critic.score > 1") == .boolean)
        #expect(type("nobody.knows") == .any)
    }
}

private enum ExpressionTestError: Error { case notAReference }

@Suite struct ExpressionCheckerTests {
    @Test(arguments: [
        "critic.score >= 7",
        "critic.verdict == \"approve\"",
        "critic.verdict != 'reject' and critic.score > 5",
        "critic.notes == null",
        "critic.notes != null and len(critic.tags) > 0",
        "critic.approved ?? false",
        "not (critic.approved ?? true)",
        "(critic.summary ?? \"\") < \"m\"",
        "critic.rating ?? 0 > 1.5",
        "critic.meta == 3 and critic.meta",
        "critic.meta.deep[3] > 'x'",
        "len(critic.summary) == 0",
        "len(critic.notes) < 100",
        "critic.approved == true",
        "critic.summary == null",
        "writer.done ?? false",
        "writer.done == null or planner.questions[0].text == 'why'",
        "len(planner.questions) >= 3 or critic.score == 1.0",
        "nobody.knows and true",
        "true",
        "'a' < 'b'",
    ])
    func wellTypedConditionsPass(_ text: String) {
        #expect(check(text, key: "when").isEmpty, "\(text)")
    }

    /// Each error: the text, its column (the text starts at 7:11), its message and hint.
    @Test(arguments: [
        ("critic.score == \"7\"", 24, "comparing a number with a string: `==` is always false",
         "write the number without quotes: `7`"),
        ("critic.score != 'high'", 24, "comparing a number with a string: `!=` is always true", "`critic.score` is a number"),
        ("critic.summary ?? '' == 3", 32, "comparing a string with a number: `==` is always false",
         "quote it to compare with a string: `\"3\"`"),
        ("critic.approved ?? false == 'true'", 36, "comparing a boolean with a string: `==` is always false",
         "write `true` without quotes"),
        ("critic.score >= \"high\"", 24, "comparing a number with a string with `>=`", "`critic.score` is a number"),
        ("critic.score == null", 24, "comparing a number with null: `critic.score` is never null or absent, so `==` is always false", nil),
        ("critic.verdict == \"aproved\"", 29, "`critic.verdict` is never \"aproved\": its schema allows only \"approve\", \"reject\"",
         "did you mean `\"approve\"`?"),
        ("critic.score and true", 11, "`and` takes conditions (true or false), but `critic.score` is a number",
         "compare it, e.g. `critic.score >= 1`"),
        ("true or critic.verdict", 19, "`or` takes conditions (true or false), but `critic.verdict` is a string",
         "compare it, e.g. `critic.verdict == \"approve\"`"),
        ("not critic.tags", 15, "`not` takes conditions (true or false), but `critic.tags` is a list",
         "test its length, e.g. `len(critic.tags) > 0`"),
        ("critic.approved and true", 11, "`and` takes conditions (true or false), but `critic.approved` may be absent",
         "say what to use then, e.g. `critic.approved ?? false`"),
        ("critic.notes > 'a'", 11, "`>` needs a value, but `critic.notes` may be null", "say what to use then, e.g. `critic.notes ?? \"\" > ...`"),
        ("critic.rating < 3", 11, "`<` needs a value, but `critic.rating` may be null", "say what to use then, e.g. `critic.rating ?? 0 < ...`"),
        ("3 < critic.tags", 15, "`<` compares numbers or strings, but `critic.tags` is a list",
         "compare its length, e.g. `len(critic.tags) < 3`"),
        ("critic.approved ?? false < 3", 11, "`<` compares numbers or strings, but `critic.approved ?? false` is a boolean", nil),
        ("len(critic.score) > 1", 15, "`len` counts the characters of a string or the items of a list or an object, but `critic.score` is a number", nil),
        ("len() > 1", 11, "`len` takes one value, but it is given none", "for example `len(planner.questions)`"),
        ("len(critic.tags, critic.notes) > 1", 11, "`len` takes one value, but it is given 2", "for example `len(planner.questions)`"),
        ("lenght(critic.tags) > 0", 11, "unknown function `lenght`", "did you mean `len`?"),
        ("length(critic.tags) > 0", 11, "unknown function `length`", "did you mean `len`?"),
        ("size(critic.tags) > 0", 11, "unknown function `size`", "the functions are: `len`"),
        ("writer.done", 11, "`when` must be a condition (true or false), but `writer.done` may be absent",
         "say what to use then, e.g. `writer.done ?? false`"),
        ("critic.score", 11, "`when` must be a condition (true or false), but `critic.score` is a number",
         "compare it, e.g. `critic.score >= 1`"),
        ("critic.notes ?? 'none'", 11, "`when` must be a condition (true or false), but `critic.notes ?? \"none\"` is a string",
         "compare it, e.g. `critic.notes ?? \"none\" == \"yes\"`"),
        ("len(critic.tags)", 11, "`when` must be a condition (true or false), but `len(critic.tags)` is a number",
         "compare it, e.g. `len(critic.tags) >= 1`"),
        ("null", 11, "`when` must be a condition (true or false), but `null` is null", nil),
    ] as [(String, Int, String, String?)])
    func errorsAtTheirColumn(_ text: String, _ column: Int, _ message: String, _ hint: String?) {
        let problems = check(text, key: "when")
        #expect(problems.count == 1, "\(text): \(problems)")
        #expect(problems.first?.rule == .expressionType)
        #expect(problems.first?.span.start == SourcePosition(line: 7, column: column), "\(text)")
        #expect(problems.first?.message == message)
        #expect(problems.first?.hint == hint)
    }

    @Test func oneMistakeIsOneError() {
        // The comparison is a boolean even when its operands are wrong, so `and` does not complain too.
        #expect(check("critic.score == 'x' and critic.tags > 1").count == 2)
        #expect(check("not (critic.score == 'x')").count == 1)
        // An unknown function's result is unknown.
        #expect(check("size(critic.tags) > 0 and size(critic.tags)").count == 2)
    }

    @Test func conditionResultAndDefaultWording() {
        var sink = DiagnosticSink()
        let checker = ExpressionChecker(resolve: resolve)
        let good = ExpressionParser.parse("critic.score >= 7", file: "f", start: conditionStart, diagnostics: &sink)!
        #expect(checker.checkCondition(good, diagnostics: &sink))
        let bad = ExpressionParser.parse("critic.score", file: "f", start: conditionStart, diagnostics: &sink)!
        #expect(!checker.checkCondition(bad, diagnostics: &sink))
        #expect(sink.diagnostics.first?.message == "a condition must be true or false, but `critic.score` is a number")
        #expect(check("critic.verdict", key: "until").first?.message.hasPrefix("`until` must be a condition") == true)
    }

    @Test func theRulesAreDeclared() {
        #expect(RuleID.expressionSyntax.rawValue == "expression-syntax")
        #expect(RuleID.expressionType.rawValue == "expression-type")
        #expect(RuleID.expressionSyntax.defaultSeverity == .error)
        #expect(RuleID.expressionType.defaultSeverity == .error)
    }
}
