/// Reads a reference path, `root(.field | [index] | ["key"])*`, from a string's scalars.
///
/// Shared by the template parser (`{{ researcher.key_findings[0] }}`) and the expression
/// parser (`when: critic.score >= 7`), so both accept exactly the same paths. Identifiers
/// are `[A-Za-z_][A-Za-z0-9_-]*`; spaces are allowed inside brackets only; a quoted key has
/// no escapes and ends at the first matching quote.
///
/// Positions: `scalars[origin]` stands at `base` in the file and the text is on one line, so
/// scalar `i` is at `base.advanced(by: i - origin)` (columns count Unicode scalars).
struct PathReader {
    let scalars: [Unicode.Scalar]
    var index: Int
    let file: String
    let origin: Int
    let base: SourcePosition

    init(scalars: [Unicode.Scalar], index: Int, file: String, origin: Int, base: SourcePosition) {
        self.scalars = scalars
        self.index = index
        self.file = file
        self.origin = origin
        self.base = base
    }

    func position(_ at: Int) -> SourcePosition { base.advanced(by: at - origin) }
    func span(_ from: Int, _ to: Int) -> Span { Span(file: file, start: position(from), end: position(to)) }
    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" { index += 1 }
    }

    /// A one-scalar problem at `at`.
    func problem(_ at: Int, _ message: String, hint: String? = nil) -> SyntaxProblem {
        SyntaxProblem(span: span(at, at + 1), message: message, hint: hint)
    }

    /// A whole reference starting at the current scalar, or nil (nothing consumed) when no
    /// identifier starts here.
    mutating func reference() -> Result<TemplateReference, SyntaxProblem>? {
        let rootStart = index
        guard let root = identifier() else { return nil }
        let rootEnd = index
        switch segments() {
        case .success(let path):
            return .success(
                TemplateReference(
                    root: Located(root, at: span(rootStart, rootEnd)), path: path, span: span(rootStart, index)))
        case .failure(let problem):
            return .failure(problem)
        }
    }

    mutating func identifier() -> String? {
        guard let c = current, Self.isIdentifierStart(c) else { return nil }
        let begin = index
        while let c = current, Self.isIdentifierCharacter(c) { index += 1 }
        // Identifiers are ASCII: one byte a scalar, without building a scalar view.
        return String(unsafeUninitializedCapacity: index - begin) { buffer in
            for (offset, scalar) in scalars[begin..<index].enumerated() { buffer[offset] = UInt8(truncatingIfNeeded: scalar.value) }
            return index - begin
        }
    }

    /// The `.field`, `[index]` and `["key"]` steps after a root, up to the first scalar that
    /// starts none of them.
    mutating func segments() -> Result<[PathSegment], SyntaxProblem> {
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
                    while let d = current, d.value >= 48 && d.value <= 57 { index += 1 }
                    guard index > digitsStart,
                        let value = Int(String(String.UnicodeScalarView(scalars[digitsStart..<index])))
                    else {
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
        return .success(path)
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

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    static func isIdentifierCharacter(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || ("0"..."9").contains(c) || c == "-"
    }
}

/// A malformed path, template or condition: where, what, and how to fix it.
struct SyntaxProblem: Error {
    var span: Span
    var message: String
    var hint: String?
}
