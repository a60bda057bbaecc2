import Testing
@testable import PipeKit

/// The stages' values by root; a path that leads nowhere is absent.
private func lookup(_ values: JSONValue) -> (TemplateReference) -> JSONValue? {
    { reference in
        var current = values[reference.root.value]
        for segment in reference.path {
            switch segment.kind {
            case .field(let name): current = current?[name]
            case .index(let index): current = current?[index]
            }
        }
        return current
    }
}

private let run: JSONValue = [
    "critic": [
        "score": 7, "verdict": "approve", "notes": nil, "tags": ["a", "b"], "approved": false,
        "summary": "héllo 👍🏽", "meta": ["x": 1, "y": 2],
    ],
    "big": ["n": ["a": 1]],
]

private func evaluate(_ text: String, _ values: JSONValue = run) -> JSONValue? {
    var sink = DiagnosticSink()
    guard let e = ExpressionParser.parse(text, file: "f", start: conditionStart, diagnostics: &sink) else {
        Issue.record("does not parse: \(text): \(sink.diagnostics)")
        return nil
    }
    return ExpressionEvaluator.evaluate(e, value: lookup(values))
}

@Suite struct ExpressionEvaluatorTests {
    @Test func truthTables() {
        for a in [true, false] {
            for b in [true, false] {
                #expect(evaluate("\(a) and \(b)") == .bool(a && b))
                #expect(evaluate("\(a) or \(b)") == .bool(a || b))
            }
            #expect(evaluate("not \(a)") == .bool(!a))
        }
        // Only `true` is true.
        #expect(evaluate("null or 1") == false)
        #expect(evaluate("not null") == true)
        #expect(evaluate("not 'yes'") == true)
        #expect(evaluate("true and 'yes'") == false)
    }

    @Test func andOrShortCircuit() throws {
        var sink = DiagnosticSink()
        let e = try #require(ExpressionParser.parse("false and a or true or b", file: "f", start: conditionStart, diagnostics: &sink))
        var asked: [String] = []
        #expect(ExpressionEvaluator.holds(e) { asked.append($0.description); return true })
        #expect(asked.isEmpty)
    }

    @Test func defaultReplacesNullAndAbsent() {
        #expect(evaluate("critic.notes ?? 'none'") == "none")
        #expect(evaluate("critic.missing ?? 'none'") == "none")
        #expect(evaluate("skipped.anything[3] ?? 0") == 0)
        #expect(evaluate("critic.approved ?? true") == false)
        #expect(evaluate("critic.score ?? 0") == 7)
        #expect(evaluate("a ?? b ?? 'last'") == "last")
        #expect(evaluate("critic.missing ?? critic.verdict ?? 'last'") == "approve")
    }

    @Test func absentReferencesAreNull() {
        #expect(evaluate("critic.missing == null") == true)
        #expect(evaluate("skipped == null") == true)
        #expect(evaluate("critic.tags[5] == null") == true)
        #expect(evaluate("critic.missing > 3") == false)
        #expect(evaluate("critic.missing < 3") == false)
        #expect(evaluate("critic.missing != 3") == true)
    }

    @Test func numbersCompareExactly() {
        #expect(evaluate("1.0 == 1") == true)
        #expect(evaluate("critic.score == 7.0") == true)
        #expect(evaluate("critic.score >= 7 and critic.score <= 7 and not (critic.score < 7) and not (critic.score > 7)") == true)
        #expect(evaluate("1e2 == 100") == true)
        #expect(evaluate("0.1 < 0.2 and -1 < 0 and -2.5 < -2") == true)
        #expect(evaluate("12345678901234567890 < 12345678901234567891") == true)
        #expect(evaluate("0.30000000000000001 > 0.3") == true)
        #expect(evaluate("-0 == 0") == true)
    }

    @Test func stringsCompareByUnicodeScalars() {
        #expect(evaluate("critic.verdict == 'approve'") == true)
        #expect(evaluate("'b' > 'a' and 'a' < 'ab' and 'Z' < 'a'") == true)
        #expect(evaluate("'é' > 'z'") == true)
        // Composed and decomposed é are different strings to JSON.
        #expect(evaluate("'\\u00e9' == 'e\\u0301'") == false)
        #expect(evaluate("'x' >= 'x' and 'x' <= 'x'") == true)
    }

    @Test func typeMismatchesAreNotErrors() {
        #expect(evaluate("'7' == 7") == false)
        #expect(evaluate("'7' != 7") == true)
        #expect(evaluate("'7' < 8") == false)
        #expect(evaluate("'7' >= 8") == false)
        #expect(evaluate("true > false") == false)
        #expect(evaluate("critic.tags > 1") == false)
        #expect(evaluate("critic.tags == null") == false)
    }

    @Test func structuredEquality() {
        let values: JSONValue = ["a": ["x": 1, "y": [1, 2]], "b": ["y": [1.0, 2], "x": 1]]
        #expect(evaluate("a == b", values) == true)
        #expect(evaluate("a.y == b.y and a.y[1] == 2", values) == true)
    }

    @Test func lenCountsScalarsItemsAndMembers() {
        #expect(evaluate("len(critic.summary)") == 8)  // h é l l o space 👍 🏽
        #expect(evaluate("len(critic.tags)") == 2)
        #expect(evaluate("len(critic.meta)") == 2)
        #expect(evaluate("len(critic.missing)") == 0)
        #expect(evaluate("len(critic.notes)") == 0)
        #expect(evaluate("len('')") == 0)
        #expect(evaluate("len(critic.score)") == .null)
        #expect(evaluate("len(critic.score) > 0") == false)
        #expect(evaluate("len(critic.tags, critic.tags)") == .null)
        #expect(evaluate("size(critic.tags)") == .null)
    }

    @Test func conditionsFromTheIssue() {
        #expect(evaluate("critic.score >= 7 and critic.verdict == \"approve\"") == true)
        #expect(evaluate("(critic.rating ?? 0) > 3 or len(critic.tags) > 1") == true)
        #expect(evaluate("not (critic.approved ?? false)") == true)
    }
}
