/// One token of a condition, with where it was written and its text as written.
struct ExpressionToken: Sendable {
    enum Kind: Sendable, Equatable {
        case number(JSONNumber)
        case string(String)
        /// An identifier and its path steps: `critic.score`, `len`, `planner.items[0]`.
        case path(TemplateReference)
        case trueKeyword, falseKeyword, nullKeyword
        case and, or, not
        case comparison(BinaryOperator)
        /// `??`
        case defaultOperator
        case openParen, closeParen, comma
        case end
    }

    var kind: Kind
    var span: Span
    var text: String
}

/// Splits a condition into tokens.
///
/// - Numbers use JSON's syntax (`7`, `-1`, `0.5`, `1e3`); a leading `-` belongs to the
///   number, and there is no other arithmetic.
/// - Strings are quoted with `'` or `"` and take JSON's escapes plus `\'`.
/// - `and`, `or`, `not`, `true`, `false`, `null` are words; a bare path with one of these
///   names is the keyword. `&&`, `||` and `!` are rejected with a hint to use the word,
///   so that a condition has one spelling.
/// - Paths are those of templates (`PathReader`), without the braces.
/// - Spaces, tabs and line breaks separate tokens. Positions assume the text is on one
///   line starting at `start` (columns count Unicode scalars).
struct ExpressionLexer {
    let scalars: [Unicode.Scalar]
    let file: String
    let start: SourcePosition
    var index = 0

    init(_ text: String, file: String, start: SourcePosition) {
        self.scalars = Array(text.unicodeScalars)
        self.file = file
        self.start = start
    }

    /// Conditions longer than this are refused rather than parsed (they are a mistake, and
    /// the checker and evaluator recurse over the tree).
    static let maximumTokens = 1000

    func position(_ at: Int) -> SourcePosition { start.advanced(by: at) }
    func span(_ from: Int, _ to: Int) -> Span { Span(file: file, start: position(from), end: position(to)) }
    func text(_ from: Int, _ to: Int) -> String { String(String.UnicodeScalarView(scalars[from..<to])) }
    func scalar(_ at: Int) -> Unicode.Scalar? { at < scalars.count ? scalars[at] : nil }

    func problem(_ from: Int, _ to: Int, _ message: String, hint: String? = nil) -> SyntaxProblem {
        SyntaxProblem(span: span(from, max(to, from + 1)), message: message, hint: hint)
    }

    /// All tokens, ending with `.end`, or the first problem.
    mutating func tokenize() throws(SyntaxProblem) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
            if tokens.count > Self.maximumTokens {
                throw problem(
                    0, scalars.count, "the condition is too long (more than \(Self.maximumTokens) tokens)",
                    hint: "compute the decision in a stage and test its result")
            }
        }
    }

    mutating func next() throws(SyntaxProblem) -> ExpressionToken {
        while let c = scalar(index), c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
        let begin = index
        func token(_ kind: ExpressionToken.Kind, length: Int) -> ExpressionToken {
            index = begin + length
            return ExpressionToken(kind: kind, span: span(begin, index), text: text(begin, index))
        }
        guard let c = scalar(index) else {
            return ExpressionToken(kind: .end, span: span(index, index), text: "")
        }
        let following = scalar(index + 1)
        switch c {
        case "(": return token(.openParen, length: 1)
        case ")": return token(.closeParen, length: 1)
        case ",": return token(.comma, length: 1)
        case "<":
            return following == "=" ? token(.comparison(.lessOrEqual), length: 2) : token(.comparison(.less), length: 1)
        case ">":
            return following == "="
                ? token(.comparison(.greaterOrEqual), length: 2) : token(.comparison(.greater), length: 1)
        case "=":
            if following == "=" { return token(.comparison(.equal), length: 2) }
            throw problem(begin, begin + 1, "`=` is not a comparison", hint: "compare with `==`")
        case "!":
            if following == "=" { return token(.comparison(.notEqual), length: 2) }
            throw problem(begin, begin + 1, "`!` is not an operator here", hint: "write `not` to negate a condition")
        case "?":
            if following == "?" { return token(.defaultOperator, length: 2) }
            throw problem(
                begin, begin + 1, "`?` alone is not an operator",
                hint: "`??` says what to use instead of a missing value, e.g. `critic.notes ?? \"none\"`")
        case "&" where following == "&":
            throw problem(begin, begin + 2, "`&&` is not an operator in conditions", hint: "write `and`")
        case "|" where following == "|":
            throw problem(begin, begin + 2, "`||` is not an operator in conditions", hint: "write `or`")
        case "{" where following == "{":
            throw problem(
                begin, begin + 2, "a condition uses references without braces",
                hint: "write `critic.score >= 7`, not `{{ critic.score }} >= 7`")
        case "\"", "'":
            return try string(quote: c)
        case "-", "0"..."9":
            return try number()
        default:
            break
        }
        if PathReader.isIdentifierStart(c) {
            var reader = PathReader(scalars: scalars, index: index, file: file, origin: 0, base: start)
            switch reader.reference() {
            case .success(let reference)?:
                let kind: ExpressionToken.Kind
                switch reference.path.isEmpty ? reference.root.value : "" {
                case "true": kind = .trueKeyword
                case "false": kind = .falseKeyword
                case "null": kind = .nullKeyword
                case "and": kind = .and
                case "or": kind = .or
                case "not": kind = .not
                default: kind = .path(reference)
                }
                return token(kind, length: reader.index - begin)
            case .failure(let problem)?:
                throw problem
            case nil:
                break
            }
        }
        throw problem(
            begin, begin + 1, "unexpected `\(Character(c))` in a condition",
            hint: "a condition compares references, numbers and quoted strings, e.g. `critic.verdict == \"approve\"`")
    }

    /// A JSON number, with its sign: the longest run that could belong to it, checked whole,
    /// so `1.2.3` and `07` are one error rather than two tokens.
    mutating func number() throws(SyntaxProblem) -> ExpressionToken {
        let begin = index
        if scalar(index) == "-" {
            guard let digit = scalar(index + 1), ("0"..."9").contains(digit) else {
                throw problem(
                    begin, begin + 1, "`-` must be followed by a number",
                    hint: "a negative number is written `-1`; conditions have no arithmetic")
            }
            index += 1
        }
        while let c = scalar(index) {
            if PathReader.isIdentifierCharacter(c) && c != "-" || c == "." {
                index += 1
            } else if (c == "+" || c == "-"), let previous = scalar(index - 1), previous == "e" || previous == "E" {
                index += 1
            } else {
                break
            }
        }
        let literal = text(begin, index)
        guard let value = JSONNumber(literal) else {
            throw problem(
                begin, index, "`\(literal)` is not a number",
                hint: "write numbers as in JSON: `7`, `-1`, `0.5`, `1e3`")
        }
        return ExpressionToken(kind: .number(value), span: span(begin, index), text: literal)
    }

    /// A quoted string: JSON's escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`) plus `\'`.
    mutating func string(quote: Unicode.Scalar) throws(SyntaxProblem) -> ExpressionToken {
        let begin = index
        index += 1
        var value = String.UnicodeScalarView()
        while true {
            guard let c = scalar(index) else {
                throw problem(begin, begin + 1, "this string is not closed", hint: "end it with `\(quote)`")
            }
            if c == quote {
                index += 1
                return ExpressionToken(kind: .string(String(value)), span: span(begin, index), text: text(begin, index))
            }
            guard c == "\\" else {
                value.append(c)
                index += 1
                continue
            }
            let escape = index
            index += 2
            switch scalar(escape + 1) {
            case "\"": value.append("\"")
            case "'": value.append("'")
            case "\\": value.append("\\")
            case "/": value.append("/")
            case "b": value.append("\u{8}")
            case "f": value.append("\u{C}")
            case "n": value.append("\n")
            case "r": value.append("\r")
            case "t": value.append("\t")
            case "u":
                index = escape
                value.append(try unicodeEscape())
            case let other:
                let shown = other.map { "\\" + String(Character($0)) } ?? "\\"
                throw problem(
                    escape, escape + 2, "unknown escape `\(shown)` in a string",
                    hint: "the escapes are `\\\"`, `\\'`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\uXXXX`")
            }
        }
    }

    /// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, at `index`; leaves `index` after it.
    mutating func unicodeEscape() throws(SyntaxProblem) -> Unicode.Scalar {
        let escape = index
        func hex(at: Int) -> UInt32? {
            guard at + 6 <= scalars.count, scalars[at] == "\\", scalars[at + 1] == "u",
                scalars[(at + 2)..<(at + 6)].allSatisfy({ $0.properties.isASCIIHexDigit })
            else { return nil }
            return UInt32(text(at + 2, at + 6), radix: 16)
        }
        let invalid = problem(
            escape, escape + 6, "`\\u` needs four hexadecimal digits naming a character",
            hint: "for example `\\u00e9` for é; a character outside the BMP is a surrogate pair `\\ud83d\\ude00`")
        guard let high = hex(at: escape) else { throw invalid }
        index = escape + 6
        if (0xD800...0xDBFF).contains(high) {
            guard let low = hex(at: index), (0xDC00...0xDFFF).contains(low) else { throw invalid }
            index += 6
            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw invalid }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw invalid }
        return scalar
    }
}
