/// Diagnostics the way a compiler prints them:
///
///     spec.yaml:12:22: error: `researcher` has no field `key_finding` in its schema [unknown-field]
///        12 |       {{ researcher.key_finding }}
///           |                     ^~~~~~~~~~~
///           = hint: did you mean `key_findings`?
public struct TextFormat: DiagnosticFormat {
    public var color: Bool

    public init(color: Bool = false) {
        self.color = color
    }

    public func render(_ files: [LintedFile]) -> String {
        var out = ""
        for file in files {
            for diagnostic in file.diagnostics {
                render(diagnostic, in: file.source, into: &out)
            }
        }
        return out
    }

    func render(_ diagnostic: Diagnostic, in source: SourceFile, into out: inout String) {
        let severity = paint(diagnostic.severity.rawValue, diagnostic.severity == .error ? "1;31" : "1;33")
        out += paint("\(diagnostic.span.file):\(diagnostic.span.start):", "1") + " \(severity): "
        out += paint(diagnostic.message, "1") + " [\(diagnostic.rule.rawValue)]\n"
        quote(diagnostic.span, in: source, into: &out)
        if let hint = diagnostic.hint {
            out += " \(String(repeating: " ", count: gutterWidth(diagnostic.span))) = \(paint("hint", "1;36")): \(hint)\n"
        }
        for related in diagnostic.related where related.span.file == source.path {
            out += paint("\(related.span.file):\(related.span.start):", "1") + " \(paint("note", "1;36")): \(related.message)\n"
            quote(related.span, in: source, into: &out)
        }
    }

    private func gutterWidth(_ span: Span) -> Int { String(span.start.line).count }

    /// The source line and a caret under the span.
    private func quote(_ span: Span, in source: SourceFile, into out: inout String) {
        let line = span.start.line
        guard line >= 1, line <= source.lineCount else { return }
        let text = source.line(line).replacingTabs
        guard !text.isEmpty || span.start.column == 1 else { return }
        let width = gutterWidth(span)
        let gutter = String(repeating: " ", count: width)
        let number = String(line)
        out += paint(" " + number + " |", "1;34") + " \(text)\n"
        let length = span.end.line == line ? max(1, span.end.column - span.start.column) : 1
        let caret = "^" + String(repeating: "~", count: min(length, max(1, text.count - span.start.column + 1)) - 1)
        out += paint(" " + gutter + " |", "1;34") + " " + String(repeating: " ", count: max(0, span.start.column - 1))
            + paint(caret, "1;32") + "\n"
    }

    private func paint(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

extension String {
    /// Tabs shown as single spaces, so that columns line up with carets.
    var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
