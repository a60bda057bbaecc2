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
        var literal = String.UnicodeScalarView()
        var i = 0
        var opening = 0
        var ok = true
        while i < scalars.count {
            guard scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "{" else {
                literal.append(scalars[i])
                i += 1
                continue
            }
            let base = opening < openings.count ? openings[opening] : fallback.advanced(by: i)
            opening += 1
            var cursor = Cursor(scalars: scalars, index: i + 2, start: i, base: base, file: file)
            switch cursor.parseReference() {
            case .success(let reference):
                if !literal.isEmpty {
                    parts.append(.text(String(literal)))
                    literal = String.UnicodeScalarView()
                }
                parts.append(.reference(reference))
                i = cursor.index
            case .failure(let problem):
                diagnostics.report(.templateSyntax, at: problem.span, problem.message, hint: problem.hint)
                ok = false
                // Skip to the closing braces, if any, and go on looking for more problems.
                i = cursor.indexAfterClosing() ?? scalars.count
            }
        }
        if !literal.isEmpty { parts.append(.text(String(literal))) }
        return ok ? Template(parts: parts, span: span) : nil
    }

    static func isIdentifierStart(_ c: Character) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    static func isIdentifierCharacter(_ c: Character) -> Bool {
        isIdentifierStart(c) || ("0"..."9").contains(c) || c == "-"
    }
}

struct TemplateProblem: Error {
    var span: Span
    var message: String
    var hint: String?
}

/// Walks one `{{ ... }}` from just after its opening braces.
private struct Cursor {
    let scalars: [Unicode.Scalar]
    var index: Int
    /// Index of the `{{` in the value, and its position in the file.
    let start: Int
    let base: SourcePosition
    let file: String

    func position(_ at: Int) -> SourcePosition { base.advanced(by: at - start) }
    func span(_ from: Int, _ to: Int) -> Span { Span(file: file, start: position(from), end: position(to)) }
    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" { index += 1 }
    }

    func indexAfterClosing() -> Int? {
        var i = start + 2
        while i + 1 < scalars.count {
            if scalars[i] == "}" && scalars[i + 1] == "}" { return i + 2 }
            i += 1
        }
        return nil
    }

    func problem(_ at: Int, _ message: String, hint: String? = nil) -> TemplateProblem {
        TemplateProblem(span: span(at, min(at + 1, max(scalars.count, at + 1))), message: message, hint: hint)
    }

    mutating func parseReference() -> Result<TemplateReference, TemplateProblem> {
        skipSpaces()
        guard indexAfterClosing() != nil else {
            return .failure(
                problem(start, "`{{` is not closed", hint: "close the reference with `}}`"))
        }
        if current == "}" {
            return .failure(problem(start, "empty reference `{{ }}`", hint: "name `input` or a stage, e.g. `{{ input }}`"))
        }
        let rootStart = index
        guard let root = identifier() else {
            return .failure(
                problem(
                    index, "expected `input` or a stage name after `{{`, found `\(current.map(String.init) ?? "")`",
                    hint: "a reference is `{{ input }}` or `{{ stage.field }}`"))
        }
        var path: [PathSegment] = []
        while let c = current {
            if c == "." {
                let dot = index
                index += 1
                guard let name = identifier() else {
                    return .failure(problem(index, "expected a field name after `.`"))
                }
                path.append(PathSegment(.field(name), span: span(dot + 1, index)))
            } else if c == "[" {
                let open = index
                index += 1
                skipSpaces()
                if current == "\"" || current == "'" {
                    guard let key = quoted() else {
                        return .failure(problem(open, "a quoted key in `[...]` is not closed"))
                    }
                    skipSpaces()
                    guard current == "]" else { return .failure(problem(index, "expected `]` after the key")) }
                    index += 1
                    path.append(PathSegment(.field(key), span: span(open, index)))
                } else {
                    let digitsStart = index
                    while let d = current, ("0"..."9").contains(d) { index += 1 }
                    guard index > digitsStart, let value = Int(String(String.UnicodeScalarView(scalars[digitsStart..<index]))) else {
                        return .failure(
                            problem(
                                index, "expected an index (a number) or a quoted key inside `[...]`",
                                hint: "write `[0]` for the first item, or `[\"key\"]` for a field"))
                    }
                    skipSpaces()
                    guard current == "]" else { return .failure(problem(index, "expected `]` after the index")) }
                    index += 1
                    path.append(PathSegment(.index(value), span: span(open, index)))
                }
            } else {
                break
            }
        }
        let rootEnd = index
        skipSpaces()
        guard current == "}", index + 1 < scalars.count, scalars[index + 1] == "}" else {
            let found = current.map { String($0) } ?? "end of text"
            return .failure(
                problem(
                    index, "unexpected `\(found)` in a reference; expected `}}`",
                    hint: "a reference is a path only, like `{{ stage.field[0] }}`"))
        }
        index += 2
        let rootLength = root.unicodeScalars.count
        return .success(
            TemplateReference(
                root: Located(root, at: span(rootStart, rootStart + rootLength)), path: path, span: span(rootStart, rootEnd)))
    }

    mutating func identifier() -> String? {
        guard let c = current, TemplateParser.isIdentifierStart(Character(c)) else { return nil }
        let begin = index
        while let c = current, TemplateParser.isIdentifierCharacter(Character(c)) { index += 1 }
        return String(String.UnicodeScalarView(scalars[begin..<index]))
    }

    mutating func quoted() -> String? {
        guard let quote = current else { return nil }
        index += 1
        let begin = index
        while let c = current, c != quote { index += 1 }
        guard current == quote else { return nil }
        let text = String(String.UnicodeScalarView(scalars[begin..<index]))
        index += 1
        return text
    }
}
