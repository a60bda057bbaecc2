import Testing
@testable import PipeKit

/// The matcher language of test files and evaluators: decoding with positions, checking
/// values with the path of each failure, and typing against an output schema.
@Suite struct MatcherTests {
    func decode(_ text: String) -> (Matcher?, [Diagnostic]) {
        var sink = DiagnosticSink()
        guard let node = YAMLLoader().load(SourceFile(path: "m.yaml", text: text), diagnostics: &sink) else { return (nil, sink.diagnostics) }
        let matcher = Matcher.decode(node, diagnostics: &sink)
        return (matcher, sink.diagnostics)
    }

    func matcher(_ text: String) throws -> Matcher {
        let (matcher, problems) = decode(text)
        #expect(problems.isEmpty, "\(problems)")
        return try #require(matcher)
    }

    func failures(_ text: String, _ actual: JSONValue?) throws -> [String] {
        try matcher(text).check(actual, path: "output").map(\.description)
    }

    @Test func aPlainValueMeansEquals() throws {
        #expect(try failures("42", 42).isEmpty)
        #expect(try failures("42", 42.0).isEmpty)
        #expect(try failures("42", 43) == ["output: expected 42, found 43"])
        #expect(try failures("[a, b]", ["a", "b"]).isEmpty)
        #expect(try failures("hello", nil) == ["output: expected \"hello\", found nothing"])
        #expect(try failures("{ equals: { contains: 1 } }", ["contains": 1]).isEmpty)
    }

    @Test func containsIsASubstringAnElementOrASubset() throws {
        #expect(try failures("{ contains: heat }", "Heat pumps and heat").isEmpty)
        #expect(try failures("{ contains: cold }", "Heat pumps") == ["output: expected a string containing \"cold\", found \"Heat pumps\""])
        #expect(try failures("{ contains: b }", ["a", "b"]).isEmpty)
        #expect(try failures("{ contains: { id: 2 } }", [["id": 1, "x": 1], ["id": 2, "x": 3]]).isEmpty)
        #expect(try failures("{ contains: { a: 1, n: { b: 2 } } }", ["a": 1, "z": 0, "n": ["b": 2, "c": 3]]).isEmpty)
        #expect(try failures("{ contains: { a: 2 } }", ["a": 1]) == ["output: expected an object containing {\"a\":2}, found {\"a\":1}"])
        #expect(try failures("{ contains: 3 }", 3).count == 1)
    }

    @Test func matchesIsAnECMARegexSearch() throws {
        #expect(try failures(#"{ matches: "^\\d{3}$" }"#, "123").isEmpty)
        #expect(try failures(#"{ matches: "^\\d{3}$" }"#, "1234") == [#"output: expected a string matching /^\d{3}$/, found "1234""#])
        #expect(try failures("{ matches: x }", 1).count == 1)
    }

    @Test func schemaReportsEachViolationAtItsPath() throws {
        let text = "{ schema: { type: object, properties: { sources: { type: array, items: { type: string } } } } }"
        #expect(try failures(text, ["sources": ["a"]]).isEmpty)
        let found = try failures(text, ["sources": ["a", 2]])
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("output.sources[1]: expected a value valid against the schema, found 2 (") == true)
    }

    @Test func lengthAndBoundsCompareNumbers() throws {
        #expect(try failures(#"{ length: { ">=": 5 } }"#, "héllo").isEmpty)
        #expect(try failures(#"{ length: { ">=": 5 } }"#, "abc") == ["output.length: expected a number >= 5, found 3"])
        #expect(try failures("{ length: 2 }", ["a", "b"]).isEmpty)
        #expect(try failures("{ length: 1 }", ["k": 1]).isEmpty)
        #expect(try failures("{ length: 1 }", true) == ["output: expected a string, list or object with a length, found true"])
        #expect(try failures(#"{ ">=": 7, "<=": 10 }"#, 7).isEmpty)
        #expect(try failures(#"{ ">=": 7, "<=": 10 }"#, 10.5) == ["output: expected a number <= 10, found 10.5"])
        #expect(try failures(#"{ ">=": 0.5 }"#, "1") == [#"output: expected a number >= 0.5, found "1""#])
    }

    @Test func fieldsMatchAnObjectKeyByKeyAndNameThePath() throws {
        let text = #"{ article: { contains: heat }, verified: true, sources: { length: { ">=": 1 } }, "odd key": 1 }"#
        #expect(try failures(text, ["article": "heat pumps", "verified": true, "sources": ["s"], "odd key": 1, "extra": 0]).isEmpty)
        #expect(try failures(text, ["article": "cold", "verified": false, "sources": [], "odd key": 2]) == [
            "output.article: expected a string containing \"heat\", found \"cold\"",
            "output.verified: expected true, found false",
            "output.sources.length: expected a number >= 1, found 0",
            "output[\"odd key\"]: expected 1, found 2",
        ])
        #expect(try failures("{ a: { b: { c: 1 } } }", ["a": ["b": [:]]]) == ["output.a.b.c: expected 1, found nothing"])
        #expect(try failures("{ a: 1 }", "text") == ["output: expected an object with a, found \"text\""])
        // `fields:` matches members whose names are matcher names.
        #expect(try failures("{ fields: { length: 3, contains: x } }", ["length": 3, "contains": "x"]).isEmpty)
    }

    @Test func mapValuesTransformsExpectedValues() throws {
        let rendered = try matcher("{ verdict: { equals: X }, notes: { contains: X } }").mapValues { $0 == "X" ? "yes" : $0 }
        #expect(rendered.check(["verdict": "yes", "notes": "oh yes"], path: "output").isEmpty)
    }

    @Test func ignoredKeysAreLeftToTheCaller() throws {
        var sink = DiagnosticSink()
        let node = try #require(YAMLLoader().load(SourceFile(path: "m.yaml", text: "{ path: output.title, length: 5 }"), diagnostics: &sink))
        let matcher = try #require(Matcher.decode(node, diagnostics: &sink, ignoring: ["path"]))
        #expect(sink.diagnostics.isEmpty)
        #expect(matcher.check("12345", path: "output.title").isEmpty)
    }

    // MARK: Diagnostics at the node's span

    func problem(_ text: String) -> String {
        let (matcher, problems) = decode(text)
        #expect(matcher == nil)
        return problems.map { "\($0.span.start) \($0.rule.rawValue) \($0.message) | \($0.hint ?? "")" }.joined(separator: "\n")
    }

    @Test func anUnknownMatcherNextToMatcherNamesIsAnErrorWithDidYouMean() {
        let found = problem("{ contains: a, lenght: 3 }")
        #expect(found.hasPrefix("1:16 unknown-key `lenght` is not a matcher"))
        #expect(found.hasSuffix("did you mean `length`?"))
        #expect(problem("{ contains: a, title: 3 }").contains("write `fields: { title: ... }`"))
    }

    @Test func badArgumentsAreErrorsAtTheirValues() {
        #expect(problem(#"{ ">=": five }"#).hasPrefix("1:9 type-mismatch `>=` takes a number, not a string"))
        #expect(problem("x:\n  matches: \"(a\"\n").hasPrefix("2:12 invalid-value `matches` pattern \"(a\" does not compile"))
        #expect(problem("{ matches: [a] }").hasPrefix("1:12 type-mismatch `matches` takes a regular expression"))
        #expect(problem("{ schema: { type: 3 } }").hasPrefix("1:19 invalid-schema `schema` is not a valid JSON Schema: invalid \"type\""))
        #expect(problem("{ fields: 3 }").hasPrefix("1:11 type-mismatch `fields` takes a mapping"))
        #expect(problem(#"{ a: { length: { "<=": x } } }"#).hasPrefix("1:24 type-mismatch"))
    }

    // MARK: Typing against an output schema

    let schema: JSONValue = [
        "type": "object",
        "properties": [
            "article": ["type": "string"],
            "score": ["type": "integer"],
            "verified": ["type": "boolean"],
            "sources": ["type": "array", "items": ["type": "string"]],
        ],
    ]

    func typeErrors(_ text: String) throws -> [String] {
        let span = Span.fileStart("m.yaml")
        return try matcher(text).typeErrors(against: SchemaShape(schema), path: "output", at: span)
            .map { "\($0.span.start) \($0.rule.rawValue) \($0.message) | \($0.hint ?? "")" }
    }

    @Test func matchersThatFitTheSchemaHaveNoTypeErrors() throws {
        #expect(try typeErrors(#"{ article: { contains: heat, length: { ">=": 5 } }, score: { ">=": 7 }, verified: true, sources: { contains: x } }"#).isEmpty)
        #expect(try typeErrors("{ score: 7.0, article: { matches: a }, sources: { schema: { type: array } } }").isEmpty)
    }

    @Test func containsOnANumberAndBoundsOnAStringAreTypeErrors() throws {
        let found = try typeErrors(#"{ score: { contains: 1 }, article: { ">=": 3 }, verified: { length: 1 }, sources: { matches: x } }"#)
        #expect(found.count == 4)
        #expect(found[0].hasPrefix("1:12 type-mismatch `contains` 1 cannot match `output.score`, which is a number or an integer"))
        #expect(found[1].hasPrefix("1:38 type-mismatch `>=` cannot match `output.article`, which is a string"))
        #expect(found[2].hasPrefix("1:61 type-mismatch `length` cannot match `output.verified`"))
        #expect(found[3].hasPrefix("1:85 type-mismatch `matches` cannot match `output.sources`, which is a list"))
        #expect(try typeErrors("{ verified: yes }").first?.contains("a string (\"yes\") cannot match `output.verified`") == true)
        #expect(try typeErrors(#"{ sources: { length: { matches: x } } }"#).first?.contains("`output.sources.length`") == true)
    }

    @Test func aFieldNotInTheSchemaIsAnUnknownFieldWithDidYouMean() throws {
        #expect(try typeErrors("{ artcle: x }") == ["1:3 unknown-field `output.artcle` is not in the output schema | did you mean `article`?"])
        #expect(try typeErrors("{ contain: x }") == ["1:3 unknown-field `output.contain` is not in the output schema | did you mean the matcher `contains`?"])
        let notAnObject = try typeErrors("{ article: { first: x } }")
        #expect(notAnObject.first?.hasPrefix("1:12 type-mismatch a mapping of fields cannot match `output.article`, which is a string") == true)
        #expect(try typeErrors("text").first?.contains("cannot match `output`, which is an object") == true)
    }
}
