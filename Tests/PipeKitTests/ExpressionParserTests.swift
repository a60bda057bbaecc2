import Testing
@testable import PipeKit

/// Conditions written at line 7, column 11 of a spec, as in `    when: critic.score >= 7`.
let conditionStart = SourcePosition(line: 7, column: 11)

func parseCondition(_ text: String) -> (Expression?, [Diagnostic]) {
    var sink = DiagnosticSink()
    let expression = ExpressionParser.parse(text, file: "spec.yaml", start: conditionStart, diagnostics: &sink)
    return (expression, sink.diagnostics)
}

/// A fully parenthesised rendering that shows the tree: `(or a (and b c))`.
func tree(_ e: Expression) -> String {
    switch e {
    case .literal(let value, _):
        if case .string(let s) = value { return s.jsonQuoted }
        return value.description
    case .reference(let reference): return reference.description
    case .not(let operand, _): return "(not \(tree(operand)))"
    case .binary(let op, let lhs, let rhs, _, _): return "(\(op.rawValue) \(tree(lhs)) \(tree(rhs)))"
    case .call(let name, let arguments, _): return "(\(([name.value] + arguments.map(tree)).joined(separator: " ")))"
    case .defaulted(let lhs, let rhs, _, _): return "(?? \(tree(lhs)) \(tree(rhs)))"
    }
}

@Suite struct ExpressionParserTests {
    func parsed(_ text: String) -> String? {
        let (expression, problems) = parseCondition(text)
        #expect(problems.isEmpty, "\(problems)")
        return expression.map(tree)
    }

    @Test func precedenceFromOrToDefault() {
        #expect(parsed("a or b and c") == "(or a (and b c))")
        #expect(parsed("a and b or c") == "(or (and a b) c)")
        #expect(parsed("a and b and c") == "(and (and a b) c)")
        #expect(parsed("not a == b") == "(not (== a b))")
        #expect(parsed("not a and b") == "(and (not a) b)")
        #expect(parsed("not not a") == "(not (not a))")
        #expect(parsed("a ?? 0 >= 7") == "(>= (?? a 0) 7)")
        #expect(parsed("a ?? b ?? c") == "(?? a (?? b c))")
        #expect(parsed("x != null or y < 3 and z") == "(or (!= x null) (and (< y 3) z))")
    }

    @Test func parenthesesOverridePrecedence() {
        #expect(parsed("(a or b) and c") == "(and (or a b) c)")
        #expect(parsed("not (a or b)") == "(not (or a b))")
        #expect(parsed("((a))") == "a")
        #expect(parsed("(a ?? b) == (c ?? d)") == "(== (?? a b) (?? c d))")
    }

    @Test func descriptionAddsOnlyTheParenthesesNeeded() {
        #expect(parseCondition("((a or b)) and (not c) and (x ?? 1) > 2").0?.description == "(a or b) and not c and x ?? 1 > 2")
        #expect(parseCondition("a == 'it\\'s'").0?.description == "a == \"it's\"")
    }

    @Test func callsReferencesAndLiterals() {
        #expect(parsed("len(planner.questions) > 0") == "(> (len planner.questions) 0)")
        #expect(parsed("f() == f(a, b ?? 1)") == "(== (f) (f a (?? b 1)))")
        #expect(parsed("x.y[0][\"odd key\"] != null") == "(!= x.y[0][\"odd key\"] null)")
        #expect(parsed("fact-checker.verified == true") == "(== fact-checker.verified true)")
        #expect(parsed("x == -1 or x == 0.5 or x == 1e3 or x == -2.5E-3") == "(or (or (or (== x -1) (== x 0.5)) (== x 1000)) (== x -0.0025))")
        #expect(parsed("a<=b") == "(<= a b)")
        #expect(parsed("a >= -1") == "(>= a -1)")
        #expect(parsed("a\n  and b") == "(and a b)")
    }

    @Test func numbersAreExact() {
        guard case .binary(_, _, .literal(let value, _), _, _) = parseCondition("x == 12345678901234567890.5").0 else {
            Issue.record("not a comparison")
            return
        }
        #expect(value.description == "12345678901234567890.5")
        guard case .binary(_, .literal(let one, _), .literal(let oneAgain, _), _, _) = parseCondition("1.0 == 1").0 else {
            Issue.record("not a comparison")
            return
        }
        #expect(one == oneAgain)
    }

    @Test func stringsWithEscapes() {
        func string(_ text: String) -> String? {
            guard case .literal(.string(let s), _)? = parseCondition(text).0 else { return nil }
            return s
        }
        #expect(string(#"'it\'s'"#) == "it's")
        #expect(string(#""say \"hi\"""#) == "say \"hi\"")
        #expect(string(#""a\\b\/c\n\t\r""#) == "a\\b/c\n\t\r")
        #expect(string(#"'\u00e9\ud83d\ude00'"#) == "é😀")
        #expect(string(#""it's""#) == "it's")
        #expect(string(#"'say "hi"'"#) == "say \"hi\"")
        #expect(string("''") == "")
    }

    @Test func everyNodeKnowsWhereItIs() throws {
        let e = try #require(parseCondition("critic.score >= 7").0)
        guard case .binary(.greaterOrEqual, .reference(let reference), .literal(_, let literalSpan), let op, let span) = e else {
            Issue.record("unexpected tree \(e)")
            return
        }
        #expect(reference.root.span.start == SourcePosition(line: 7, column: 11))
        #expect(reference.root.span.end == SourcePosition(line: 7, column: 17))
        #expect(reference.path.first?.span.start == SourcePosition(line: 7, column: 18))
        #expect(reference.span.end == SourcePosition(line: 7, column: 23))
        #expect(op.start == SourcePosition(line: 7, column: 24))
        #expect(op.end == SourcePosition(line: 7, column: 26))
        #expect(literalSpan.start == SourcePosition(line: 7, column: 27))
        #expect(span.start == SourcePosition(line: 7, column: 11))
        #expect(span.end == SourcePosition(line: 7, column: 28))
        #expect(span.file == "spec.yaml")
        // Columns count Unicode scalars; a parent's span covers its parentheses.
        let grouped = try #require(parseCondition("('é😀' == a) and b").0)
        #expect(grouped.span.start.column == 11)
        #expect(grouped.span.end.column == 28)
        guard case .binary(.and, .binary(.equal, _, .reference(let a), _, _), _, _, _) = grouped else {
            Issue.record("unexpected tree \(grouped)")
            return
        }
        #expect(a.span.start.column == 20)
    }

    @Test func referencesInSourceOrder() {
        let e = parseCondition("len(planner.items) > 0 and (writer.draft ?? input.text) != '' or not critic.ok").0
        #expect(e?.references.map(\.description) == ["planner.items", "writer.draft", "input.text", "critic.ok"])
        #expect(e?.references.map(\.root.span.start.column) == [15, 39, 55, 80])
    }

    /// Each error: the text, its column (the line is 7, the text starts at column 11), and a
    /// piece of its message.
    @Test(arguments: [
        ("", 11, "the condition is empty"),
        ("   ", 14, "the condition is empty"),
        ("critic.score = 7", 24, "`=` is not a comparison"),
        ("a && b", 13, "`&&` is not an operator in conditions"),
        ("a || b", 13, "`||` is not an operator in conditions"),
        ("!a", 11, "`!` is not an operator here"),
        ("a ? b", 13, "`?` alone is not an operator"),
        ("{{ critic.score }} > 7", 11, "a condition uses references without braces"),
        ("a b", 13, "unexpected `b` after `a`"),
        ("a == 1 b", 18, "unexpected `b` after `a == 1`"),
        ("a == 1 and c d", 24, "unexpected `d` after `c`"),
        ("(a == 1", 18, "expected `)` to close the `(` at 7:11, found the end of the condition"),
        ("(a == 1 b)", 19, "expected `)` to close the `(` at 7:11, found `b`"),
        ("a)", 12, "unexpected `)`: no `(` is open"),
        ("a ==", 13, "the condition ends after `==`, where a value is expected"),
        ("a and", 13, "the condition ends after `and`, where a value is expected"),
        ("not", 11, "the condition ends after `not`, where a value is expected"),
        ("a == )", 16, "expected a value, found `)`"),
        ("a == not b", 16, "`not` cannot stand here"),
        ("a < b < c", 17, "comparisons do not chain"),
        ("\"abc", 11, "this string is not closed"),
        ("x == 'a\\qb'", 18, "unknown escape `\\q` in a string"),
        ("x == '\\u12'", 17, "`\\u` needs four hexadecimal digits"),
        ("x == '\\ud83d'", 17, "`\\u` needs four hexadecimal digits"),
        ("x == '\\u+12a'", 17, "`\\u` needs four hexadecimal digits"),
        ("1.2.3 > x", 11, "`1.2.3` is not a number"),
        ("x > 07", 15, "`07` is not a number"),
        ("x > 1.", 15, "`1.` is not a number"),
        ("x > 3abc", 15, "`3abc` is not a number"),
        ("x > - 1", 15, "`-` must be followed by a number"),
        ("a. == 1", 13, "expected a field name after `.`"),
        ("x[y] == 1", 13, "expected an index (a number) or a quoted key inside `[...]`"),
        ("x[0 == 1", 15, "expected `]` after the index"),
        ("critic.verdict(x)", 25, "`critic.verdict` is not a function"),
        ("len(a b)", 17, "expected `,` or `)` in the arguments of `len(...)`, found `b`"),
        ("len(a", 16, "expected `,` or `)` in the arguments of `len(...)`, found the end of the condition"),
        ("a == #", 16, "unexpected `#` in a condition"),
    ])
    func errorsPointAtTheOffendingToken(_ text: String, _ column: Int, _ message: String) {
        let (expression, problems) = parseCondition(text)
        #expect(expression == nil)
        #expect(problems.count == 1)
        #expect(problems.first?.rule == .expressionSyntax)
        #expect(problems.first?.severity == .error)
        #expect(problems.first?.span.start == SourcePosition(line: 7, column: column), "\(text): \(problems)")
        #expect(problems.first?.message.contains(message) == true, "\(text): \(problems.first?.message ?? "")")
    }

    @Test func hintsSayWhatCouldComeNext() {
        #expect(parseCondition("a b").1.first?.hint == "expected `==`, `!=`, `<`, `<=`, `>`, `>=`, `??`, `and`, `or` or the end of the condition")
        #expect(parseCondition("a == 1 b").1.first?.hint == "expected `and`, `or` or the end of the condition")
        #expect(parseCondition("(a == 1 b)").1.first?.hint == "expected `and`, `or` or `)`")
        #expect(parseCondition("x and not a b").1.first?.message == "unexpected `b` after `not a`")
        #expect(parseCondition("x and not a b").1.first?.hint?.hasPrefix("expected `==`") == true)
        #expect(parseCondition("not (a == 1) b").1.first?.hint == "expected `and`, `or` or the end of the condition")
        #expect(parseCondition("(a == 1").1.first?.related.first?.span.start == SourcePosition(line: 7, column: 11))
        #expect(parseCondition("a = 1").1.first?.hint == "compare with `==`")
        #expect(parseCondition("a && b").1.first?.hint == "write `and`")
    }

    @Test func nestingAndLengthAreBounded() {
        let deep = String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40)
        #expect(parseCondition(deep).1.first?.message.contains("more than 32 deep") == true)
        let nots = String(repeating: "not ", count: 40) + "a"
        #expect(parseCondition(nots).1.first?.message.contains("more than 32 deep") == true)
        let long = Array(repeating: "a", count: 600).joined(separator: " and ")
        #expect(parseCondition(long).1.first?.message.contains("too long") == true)
        let fine = String(repeating: "(", count: 30) + "a" + String(repeating: ")", count: 30)
        #expect(parseCondition(fine).1.isEmpty)
    }

    @Test func keywordsAreReservedOnlyAsBareWords() {
        #expect(parsed("nothing and order or notes") == "(or (and nothing order) notes)")
        #expect(parsed("x.not == x.true") == "(== x.not x.true)")
    }
}

/// Generated conditions: what `description` prints parses back to the same tree, and no
/// input, however broken, crashes the parser, the checker or the evaluator.
@Suite struct ExpressionRoundTripTests {
    static let span = Span.fileStart("g")

    func reference(_ text: String) -> TemplateReference {
        guard case .reference(let reference)? = parseCondition(text).0 else { fatalError("not a reference: \(text)") }
        return reference
    }

    func generate(_ depth: Int, _ rng: inout SplitMix64) -> Expression {
        let leaves: [Expression] = [
            .literal(7, span: Self.span), .literal(-0.5, span: Self.span), .literal("a 'b' \"c\" \\ é\n", span: Self.span),
            .literal(true, span: Self.span), .literal(.null, span: Self.span),
            .literal(.number(JSONNumber("1e300")!), span: Self.span),
            .reference(reference("critic.score")), .reference(reference("x[0][\"odd key\"].y-z")),
        ]
        if depth == 0 || rng.next() % 4 == 0 { return leaves[Int(rng.next() % UInt64(leaves.count))] }
        let a = generate(depth - 1, &rng), b = generate(depth - 1, &rng)
        switch rng.next() % 5 {
        case 0: return .not(a, span: Self.span)
        case 1:
            let op = BinaryOperator.allCases[Int(rng.next() % UInt64(BinaryOperator.allCases.count))]
            return .binary(op, a, b, operatorSpan: Self.span, span: Self.span)
        case 2: return .defaulted(a, b, operatorSpan: Self.span, span: Self.span)
        case 3: return .call(name: Located("len", at: Self.span), arguments: [a], span: Self.span)
        default: return .call(name: Located("f", at: Self.span), arguments: [a, b], span: Self.span)
        }
    }

    @Test func descriptionParsesBackToTheSameTree() {
        var rng = SplitMix64(state: 6)
        for _ in 0..<2000 {
            let e = generate(5, &rng)
            let (parsed, problems) = parseCondition(e.description)
            #expect(problems.isEmpty, "\(e.description): \(problems)")
            #expect(parsed.map(tree) == tree(e), "\(e.description)")
        }
    }

    @Test func brokenInputNeverCrashes() {
        let pieces = [
            "a", "b.c", "[0]", "[", "]", "(", ")", "==", "=", "!", "!=", "<", ">=", "and", "or", "not", "??", "?",
            "'x", "\"y\"", "\\", "\\u12", "1", "-", "1.5e", "len", ",", "{{", "}}", " ", "é", "😀", "\n", "null", "true",
        ]
        var rng = SplitMix64(state: 42)
        let checker = ExpressionChecker(resolve: { _ in .any })
        for _ in 0..<3000 {
            let count = Int(rng.next() % 12)
            let text = (0..<count).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            var sink = DiagnosticSink()
            if let e = ExpressionParser.parse(text, file: "f", start: conditionStart, diagnostics: &sink) {
                #expect(sink.diagnostics.isEmpty)
                _ = checker.check(e, diagnostics: &sink)
                _ = ExpressionEvaluator.evaluate(e) { _ in .string("v") }
            } else {
                #expect(sink.diagnostics.count == 1, "\(text)")
                #expect(sink.diagnostics.first?.span.start.line == 7)
                #expect(sink.diagnostics.first.map { $0.span.start.column >= 11 } == true)
            }
        }
    }
}
