/// Parses the `{{ path }}` references of a string.
///
/// Positions: the parser works on the string's value; `openings` gives the source position
/// of each `{{` as written in the file (block and quoted scalars move text around), so each
/// reference is placed at its own line and column.
public struct TemplateParser {
    public let file: String
    /// Where each `{{` of the value stands in the file, in order.
    public let openings: [SourcePosition]
    /// Where the string starts, used when an opening cannot be placed.
    public let fallback: SourcePosition

    public init(file: String, openings: [SourcePosition], fallback: SourcePosition) {
        self.file = file
        self.openings = openings
        self.fallback = fallback
    }

    /// A template, or nil with the problems reported.
    public func parse(_ text: String, span: Span, diagnostics: inout DiagnosticSink) -> Template? {
        let scalars = Array(text.unicodeScalars)
        var parts: [Template.Part] = []
        // The text between references as UTF-8: appending to a `String.UnicodeScalarView`
        // cost about 270 instructions a character.
        var literal: [UInt8] = []
        var i = 0
        var opening = 0
        var ok = true
        while i < scalars.count {
            guard scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "{" else {
                UTF8.encode(scalars[i]) { literal.append($0) }
                i += 1
                continue
            }
            let base = opening < openings.count ? openings[opening] : fallback.advanced(by: i)
            opening += 1
            var cursor = Cursor(reader: PathReader(scalars: scalars, index: i + 2, file: file, origin: i, base: base), start: i)
            switch cursor.parseReference() {
            case .success(let reference):
                if !literal.isEmpty {
                    parts.append(.text(String(decoding: literal, as: UTF8.self)))
                    literal.removeAll(keepingCapacity: true)
                }
                parts.append(.reference(reference))
                i = cursor.reader.index
            case .failure(let problem):
                diagnostics.report(.templateSyntax, at: problem.span, problem.message, hint: problem.hint)
                ok = false
                // Skip to the closing braces, if any, and go on looking for more problems.
                i = cursor.indexAfterClosing() ?? scalars.count
            }
        }
        if !literal.isEmpty { parts.append(.text(String(decoding: literal, as: UTF8.self))) }
        return ok ? Template(parts: parts, span: span) : nil
    }

    static func isIdentifierStart(_ c: Character) -> Bool {
        guard c.unicodeScalars.count == 1, let scalar = c.unicodeScalars.first else { return false }
        return PathReader.isIdentifierStart(scalar)
    }

    static func isIdentifierCharacter(_ c: Character) -> Bool {
        guard c.unicodeScalars.count == 1, let scalar = c.unicodeScalars.first else { return false }
        return PathReader.isIdentifierCharacter(scalar)
    }
}

/// Walks one `{{ ... }}` from just after its opening braces; the path itself is read by
/// `PathReader`, shared with the expression parser.
private struct Cursor {
    var reader: PathReader
    /// Index of the `{{` in the value.
    let start: Int

    var scalars: [Unicode.Scalar] { reader.scalars }
    var current: Unicode.Scalar? { reader.current }

    func indexAfterClosing() -> Int? {
        var i = start + 2
        while i + 1 < scalars.count {
            if scalars[i] == "}" && scalars[i + 1] == "}" { return i + 2 }
            i += 1
        }
        return nil
    }

    mutating func parseReference() -> Result<TemplateReference, SyntaxProblem> {
        reader.skipSpaces()
        guard indexAfterClosing() != nil else {
            return .failure(
                reader.problem(start, "`{{` is not closed", hint: "close the reference with `}}`"))
        }
        if current == "}" {
            return .failure(
                reader.problem(start, "empty reference `{{ }}`", hint: "name `input` or a stage, e.g. `{{ input }}`"))
        }
        guard let read = reader.reference() else {
            return .failure(
                reader.problem(
                    reader.index, "expected `input` or a stage name after `{{`, found `\(current.map(String.init) ?? "")`",
                    hint: "a reference is `{{ input }}` or `{{ stage.field }}`"))
        }
        guard case .success(var reference) = read else { return read }
        reader.skipSpaces()
        if current == "?" {
            switch fallback() {
            case .success(let fallback): reference.fallback = fallback
            case .failure(let problem): return .failure(problem)
            }
            reader.skipSpaces()
        }
        guard current == "}", reader.index + 1 < scalars.count, scalars[reader.index + 1] == "}" else {
            let found = current.map { String($0) } ?? "end of text"
            return .failure(
                reader.problem(
                    reader.index, "unexpected `\(found)` in a reference; expected `}}`",
                    hint: "a reference is a path, with `??` and what to use when it is absent: `{{ critic.notes ?? \"none\" }}`"))
        }
        reader.index += 2
        return .success(reference)
    }

    /// `?? "text"`, `?? 3`, `?? true`, `?? null` or `?? other.path` (which may have its own `??`).
    mutating func fallback() -> Result<TemplateFallback, SyntaxProblem> {
        let at = reader.index
        guard reader.index + 1 < scalars.count, scalars[reader.index + 1] == "?" else {
            return .failure(reader.problem(at, "expected `??` (what to use when the value is absent)"))
        }
        reader.index += 2
        reader.skipSpaces()
        let start = reader.index
        if current == "\"" || current == "'" {
            guard let text = reader.quoted() else {
                return .failure(reader.problem(start, "the text after `??` is not closed", hint: "close it with its quote"))
            }
            return .success(.literal(.string(text), reader.span(start, reader.index)))
        }
        var word = ""
        while let c = current, c == "-" || c == "." || ("0"..."9").contains(c) || ("a"..."z").contains(c) {
            word.unicodeScalars.append(c)
            reader.index += 1
        }
        let literal: JSONValue? = switch word {
        case "true": .bool(true)
        case "false": .bool(false)
        case "null": .null
        default: JSONNumber(word).map(JSONValue.number)
        }
        if let literal { return .success(.literal(literal, reader.span(start, reader.index))) }
        reader.index = start
        guard case .success(var next)? = reader.reference() else {
            return .failure(
                reader.problem(
                    start, "expected a reference or a literal after `??`",
                    hint: "for example `?? \"none\"`, `?? 0`, `?? false` or `?? other.field`"))
        }
        reader.skipSpaces()
        if current == "?" {
            switch fallback() {
            case .success(let more): next.fallback = more
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(.reference(next))
    }
}
