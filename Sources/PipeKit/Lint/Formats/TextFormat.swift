/// Diagnostics the way a compiler prints them:
///
///     spec.yaml:12:22: error: `researcher` has no field `key_finding` in its schema [unknown-field]
///        12 |       {{ researcher.key_finding }}
///           |                     ^~~~~~~~~~~
///           = hint: did you mean `key_findings`?
///
/// A long line is quoted around the problem only (`Excerpt.width` columns, `…` where cut);
/// control characters are printed escaped (`\u001b`).
public struct TextFormat: DiagnosticFormat {
    public var color: Bool

    public init(color: Bool = false) {
        self.color = color
    }

    public func write<Failure: Error>(_ files: [LintedFile], to write: (String) throws(Failure) -> Void) throws(Failure) {
        for file in files {
            for diagnostic in file.shown {
                var out = ""
                render(diagnostic, in: file.source, into: &out)
                try write(out)
            }
            if file.omitted > 0 {
                try write(paint(file.source.path.escapingControls + ":", "1") + " \(paint("note", "1;36")): \(file.omittedMessage)\n")
            }
        }
    }

    func render(_ diagnostic: Diagnostic, in source: SourceFile, into out: inout String) {
        let severity = paint(diagnostic.severity.rawValue, diagnostic.severity == .error ? "1;31" : "1;33")
        out += paint("\(diagnostic.span.file.escapingControls):\(diagnostic.span.start):", "1") + " \(severity): "
        out += paint(diagnostic.message.escapingControls, "1") + " [\(diagnostic.rule.rawValue)]\n"
        quote(diagnostic.span, in: source, into: &out)
        if let hint = diagnostic.hint {
            out += " \(String(repeating: " ", count: gutterWidth(diagnostic.span))) = \(paint("hint", "1;36")): \(hint.escapingControls)\n"
        }
        for related in diagnostic.related where related.span.file == source.path {
            out += paint("\(related.span.file.escapingControls):\(related.span.start):", "1") + " \(paint("note", "1;36")): \(related.message.escapingControls)\n"
            quote(related.span, in: source, into: &out)
        }
    }

    private func gutterWidth(_ span: Span) -> Int { String(span.start.line).count }

    /// The source line (or its part around the span) and a caret under the span.
    private func quote(_ span: Span, in source: SourceFile, into out: inout String) {
        guard let excerpt = Excerpt(span, in: source) else { return }
        let gutter = String(repeating: " ", count: gutterWidth(span))
        out += paint(" \(span.start.line) |", "1;34") + " \(excerpt.text)\n"
        let caret = "^" + String(repeating: "~", count: excerpt.caretLength - 1)
        out += paint(" " + gutter + " |", "1;34") + " " + String(repeating: " ", count: excerpt.caretColumn) + paint(caret, "1;32") + "\n"
    }

    private func paint(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// What a diagnostic quotes of its line: at most `width` columns around the span's start,
/// with `…` where the line is cut, tabs shown as single spaces (so that columns line up with
/// carets) and control characters escaped; and where the caret goes under it. Only the bytes
/// around the span are read, however long the line.
struct Excerpt {
    static let width = 120
    /// Columns shown before the span's start when the line is cut.
    static let before = 40

    var text: String
    /// Columns before the caret.
    var caretColumn: Int
    var caretLength: Int

    init?(_ span: Span, in source: SourceFile) {
        let line = span.start.line
        guard line >= 1, line <= source.lineCount else { return nil }
        let bytes = source.bytes
        let lineStart = source.lineStarts[line - 1]
        var lineEnd = line < source.lineCount ? source.lineStarts[line] : bytes.count
        while lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\n") || bytes[lineEnd - 1] == UInt8(ascii: "\r") {
            lineEnd -= 1
        }
        guard lineEnd > lineStart || span.start.column == 1 else { return nil }
        // Enough bytes on each side for `width` columns of 4-byte characters, cut at
        // character boundaries.
        let start = min(source.offset(line: line, column: span.start.column), lineEnd)
        let reach = 4 * Self.width
        var from = max(lineStart, start - reach), to = min(lineEnd, start + reach)
        while from > lineStart, bytes[from] & 0xC0 == 0x80 { from -= 1 }
        while to < lineEnd, bytes[to] & 0xC0 == 0x80 { to += 1 }
        let left = Array(String(decoding: bytes[from..<start], as: UTF8.self).unicodeScalars)
        let right = Array(String(decoding: bytes[start..<to], as: UTF8.self).unicodeScalars)
        func columns(_ scalar: Unicode.Scalar) -> Int { scalar.isControl && scalar != "\t" ? 6 : 1 }

        // Up to `before` columns on the left, the rest on the right, then whatever the
        // right side did not use back on the left.
        var leftCount = 0, used = 0
        while leftCount < left.count, used + columns(left[left.count - 1 - leftCount]) <= Self.before {
            used += columns(left[left.count - 1 - leftCount])
            leftCount += 1
        }
        var rightCount = 0
        while rightCount < right.count, used + columns(right[rightCount]) <= Self.width {
            used += columns(right[rightCount])
            rightCount += 1
        }
        while leftCount < left.count, used + columns(left[left.count - 1 - leftCount]) <= Self.width {
            used += columns(left[left.count - 1 - leftCount])
            leftCount += 1
        }

        let cutLeft = leftCount < left.count || from > lineStart
        let cutRight = rightCount < right.count || to < lineEnd
        func show(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
            var out = ""
            for scalar in scalars {
                if scalar == "\t" { out += " " } else if scalar.isControl { out += scalar.escaped } else { out.unicodeScalars.append(scalar) }
            }
            return out
        }
        let shownLeft = left[(left.count - leftCount)...]
        let shownRight = right[..<rightCount]
        text = (cutLeft ? "…" : "") + show(shownLeft) + show(shownRight) + (cutRight ? "…" : "")
        caretColumn = (cutLeft ? 1 : 0) + shownLeft.reduce(0) { $0 + columns($1) }
        let length = span.end.line == line ? span.end.column - span.start.column : 1
        caretLength = max(1, shownRight.prefix(max(0, length)).reduce(0) { $0 + columns($1) })
    }
}
