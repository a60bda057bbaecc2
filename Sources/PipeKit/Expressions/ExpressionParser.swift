/// Parses a condition (`when:` on a stage, `until:` on a loop) into an `Expression`.
///
/// Grammar, from the loosest binding to the tightest:
///
/// ```ebnf
/// condition  = or , end ;
/// or         = and , { "or" , and } ;
/// and        = not , { "and" , not } ;
/// not        = "not" , not | comparison ;
/// comparison = default , [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) , default ] ;
/// default    = primary , [ "??" , default ] ;
/// primary    = literal | call | reference | "(" , or , ")" ;
/// call       = identifier , "(" , [ or , { "," , or } ] , ")" ;
/// reference  = identifier , { "." , identifier | "[" , digits , "]" | "[" , quoted , "]" } ;
/// literal    = number | string | "true" | "false" | "null" ;
/// ```
///
/// So `not a == b` is `not (a == b)`, `a ?? 0 >= 7` is `(a ?? 0) >= 7`, and comparisons do
/// not chain (`a < b < c` is an error). `??` groups to the right. The parser stops at the
/// first error and reports it at the offending token.
public enum ExpressionParser {
    /// Parentheses and `not` nest at most this deep.
    static let maximumNesting = 32

    /// The expression, or nil with the problem reported (rule `expression-syntax`).
    ///
    /// - Parameters:
    ///   - text: the condition as the YAML value holds it.
    ///   - file: the spec file, for spans.
    ///   - start: where `text` begins in the file; later columns count Unicode scalars on
    ///     the same line.
    public static func parse(
        _ text: String, file: String, start: SourcePosition, diagnostics: inout DiagnosticSink
    ) -> Expression? {
        var lexer = ExpressionLexer(text, file: file, start: start)
        let tokens: [ExpressionToken]
        do {
            tokens = try lexer.tokenize()
        } catch {
            diagnostics.report(.expressionSyntax, at: error.span, error.message, hint: error.hint)
            return nil
        }
        var parser = Parser(tokens: tokens)
        do {
            return try parser.condition()
        } catch {
            diagnostics.report(.expressionSyntax, at: error.span, error.message, hint: error.hint, related: error.related)
            return nil
        }
    }
}

/// A parse error, with the place it points at and, for an unclosed `(`, where that was.
struct ExpressionSyntaxError: Error {
    var span: Span
    var message: String
    var hint: String?
    var related: [RelatedLocation] = []

    init(span: Span, message: String, hint: String?, related: [RelatedLocation] = []) {
        self.span = span
        self.message = message
        self.hint = hint
        self.related = related
    }
}

/// Recursive descent over the tokens, one function per grammar rule.
private struct Parser {
    let tokens: [ExpressionToken]
    var position = 0
    var nesting = 0

    init(tokens: [ExpressionToken]) {
        self.tokens = tokens
    }

    /// A parsed node and its extent, which includes parentheses around it (the node's own
    /// span does not), so that a parent's span covers all of its text.
    struct Node {
        var expression: Expression
        var extent: Span
    }

    var current: ExpressionToken { tokens[position] }
    var previous: ExpressionToken? { position > 0 ? tokens[position - 1] : nil }

    mutating func advance() -> ExpressionToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    func joined(_ a: Span, _ b: Span) -> Span { Span(file: a.file, start: a.start, end: b.end) }

    func error(_ message: String, hint: String? = nil, at token: ExpressionToken? = nil) -> ExpressionSyntaxError {
        ExpressionSyntaxError(span: (token ?? current).span, message: message, hint: hint)
    }

    mutating func condition() throws(ExpressionSyntaxError) -> Expression {
        if current.kind == .end {
            throw error("the condition is empty", hint: "write a condition, e.g. `critic.score >= 7`")
        }
        let node = try or()
        guard current.kind == .end else {
            throw unexpectedAfter(node.expression, closing: "the end of the condition")
        }
        return node.expression
    }

    /// A token where an operator or the end was expected, after a complete expression.
    /// `closing` is what may also come next: the end of the condition, or `)`.
    func unexpectedAfter(_ expression: Expression, closing: String) -> ExpressionSyntaxError {
        if current.kind == .closeParen {
            return error("unexpected `)`: no `(` is open", hint: "remove it, or add the `(` it closes")
        }
        // The operand the next token follows: the rightmost one of a chain of `and`/`or`.
        var last = expression
        while case .binary(let op, _, let rhs, _, _) = last, !op.isComparison { last = rhs }
        // What it could still grow into: a comparison is complete; `not a` could be `not a == b`.
        var innermost = last
        while true {
            if case .not(let operand, _) = innermost {
                innermost = operand
            } else if case .binary(let op, _, let rhs, _, _) = innermost, !op.isComparison {
                innermost = rhs
            } else {
                break
            }
        }
        let expected: String
        if case .binary(let op, _, _, _, _) = innermost, op.isComparison {
            expected = "expected `and`, `or` or \(closing)"
        } else {
            expected = "expected `==`, `!=`, `<`, `<=`, `>`, `>=`, `??`, `and`, `or` or \(closing)"
        }
        return error("unexpected `\(current.text)` after `\(last)`", hint: expected)
    }

    mutating func or() throws(ExpressionSyntaxError) -> Node {
        try chain(.or, of: .or) { parser throws(ExpressionSyntaxError) in try parser.and() }
    }

    mutating func and() throws(ExpressionSyntaxError) -> Node {
        try chain(.and, of: .and) { parser throws(ExpressionSyntaxError) in try parser.not() }
    }

    /// Operands that `operand` reads, joined left to right by the operator `token` writes.
    private mutating func chain(
        _ op: BinaryOperator, of token: ExpressionToken.Kind, operand: (inout Self) throws(ExpressionSyntaxError) -> Node
    ) throws(ExpressionSyntaxError) -> Node {
        var lhs = try operand(&self)
        while current.kind == token {
            let written = advance()
            let rhs = try operand(&self)
            let span = joined(lhs.extent, rhs.extent)
            lhs = Node(
                expression: .binary(op, lhs.expression, rhs.expression, operatorSpan: written.span, span: span), extent: span)
        }
        return lhs
    }

    mutating func not() throws(ExpressionSyntaxError) -> Node {
        guard current.kind == .not else { return try comparison() }
        let keyword = advance()
        try enter(keyword)
        let operand = try not()
        nesting -= 1
        let span = joined(keyword.span, operand.extent)
        return Node(expression: .not(operand.expression, span: span), extent: span)
    }

    mutating func comparison() throws(ExpressionSyntaxError) -> Node {
        let lhs = try defaulted()
        guard case .comparison(let op) = current.kind else { return lhs }
        let opToken = advance()
        let rhs = try defaulted()
        if case .comparison = current.kind {
            throw error(
                "comparisons do not chain: `\(lhs.expression) \(op.rawValue) \(rhs.expression) \(current.text) ...`",
                hint: "join two comparisons with `and`, e.g. `a < b and b < c`")
        }
        let span = joined(lhs.extent, rhs.extent)
        return Node(
            expression: .binary(op, lhs.expression, rhs.expression, operatorSpan: opToken.span, span: span), extent: span)
    }

    mutating func defaulted() throws(ExpressionSyntaxError) -> Node {
        let lhs = try primary()
        guard current.kind == .defaultOperator else { return lhs }
        let op = advance()
        let rhs = try defaulted()
        let span = joined(lhs.extent, rhs.extent)
        return Node(expression: .defaulted(lhs.expression, rhs.expression, operatorSpan: op.span, span: span), extent: span)
    }

    mutating func primary() throws(ExpressionSyntaxError) -> Node {
        let token = current
        func literal(_ value: JSONValue) -> Node {
            Node(expression: .literal(value, span: token.span), extent: token.span)
        }
        switch token.kind {
        case .number(let number):
            _ = advance()
            return literal(.number(number))
        case .string(let string):
            _ = advance()
            return literal(.string(string))
        case .trueKeyword:
            _ = advance()
            return literal(true)
        case .falseKeyword:
            _ = advance()
            return literal(false)
        case .nullKeyword:
            _ = advance()
            return literal(.null)
        case .path(let reference):
            _ = advance()
            guard current.kind == .openParen else {
                return Node(expression: .reference(reference), extent: token.span)
            }
            guard reference.path.isEmpty else {
                throw error(
                    "`\(reference)` is not a function, so it cannot be called",
                    hint: "functions are called by name, e.g. `len(\(reference))`")
            }
            return try call(Located(reference.root.value, at: reference.root.span))
        case .openParen:
            let open = advance()
            try enter(open)
            let inner = try or()
            guard current.kind == .closeParen else {
                throw unclosed(open, after: inner.expression)
            }
            let close = advance()
            nesting -= 1
            return Node(expression: inner.expression, extent: joined(open.span, close.span))
        case .end:
            if let previous {
                throw error(
                    "the condition ends after `\(previous.text)`, where a value is expected",
                    hint: Self.completion(after: previous), at: previous)
            }
            throw error("the condition is empty", hint: "write a condition, e.g. `critic.score >= 7`")
        case .not:
            throw error(
                "`not` cannot stand here: it negates a whole comparison or condition",
                hint: "put the negated condition in parentheses, e.g. `a == (not b)`")
        default:
            throw error(
                "expected a value, found `\(token.text)`",
                hint: "a value is a reference (`critic.score`), a number, a quoted string, `true`, `false`, `null`, "
                    + "`len(...)` or a condition in parentheses")
        }
    }

    /// `name(` was read up to the name; reads the arguments and the `)`.
    mutating func call(_ name: Located<String>) throws(ExpressionSyntaxError) -> Node {
        let open = advance()
        try enter(open)
        var arguments: [Expression] = []
        if current.kind != .closeParen {
            while true {
                arguments.append(try or().expression)
                if current.kind == .comma {
                    _ = advance()
                    continue
                }
                guard current.kind == .closeParen else {
                    throw ExpressionSyntaxError(
                        span: current.span,
                        message: "expected `,` or `)` in the arguments of `\(name.value)(...)`, found \(shown(current))",
                        hint: nil, related: [RelatedLocation(open.span, "the `(` it would close")])
                }
                break
            }
        }
        let close = advance()
        nesting -= 1
        let span = joined(name.span, close.span)
        return Node(expression: .call(name: name, arguments: arguments, span: span), extent: span)
    }

    /// How to finish a condition that stops after `token`.
    static func completion(after token: ExpressionToken) -> String? {
        switch token.kind {
        case .comparison: "compare with a value, e.g. `\(token.text) 7`"
        case .defaultOperator: "say what to use instead, e.g. `?? 0`"
        case .and, .or, .not: "add the condition, e.g. `\(token.text) critic.approved`"
        case .openParen, .comma: "add a value and close the parentheses"
        default: nil
        }
    }

    func unclosed(_ open: ExpressionToken, after inner: Expression) -> ExpressionSyntaxError {
        let at = "\(open.span.start.line):\(open.span.start.column)"
        var problem = unexpectedAfter(inner, closing: "`)`")
        problem.message = "expected `)` to close the `(` at \(at), found \(shown(current))"
        problem.related = [RelatedLocation(open.span, "the `(` it would close")]
        return problem
    }

    func shown(_ token: ExpressionToken) -> String {
        token.kind == .end ? "the end of the condition" : "`\(token.text)`"
    }

    mutating func enter(_ token: ExpressionToken) throws(ExpressionSyntaxError) {
        nesting += 1
        if nesting > ExpressionParser.maximumNesting {
            throw error(
                "the condition nests parentheses and `not` more than \(ExpressionParser.maximumNesting) deep", at: token)
        }
    }
}
