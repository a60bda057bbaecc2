/// Finds where each `{{` of a YAML scalar stands in the file.
///
/// A block scalar (`prompt: |`) or a quoted one does not keep its source columns in its
/// value: indentation is stripped, lines are folded, escapes are decoded. The braces that
/// open references are copied through unchanged, though, so the n-th `{{` of the value is
/// the n-th `{{` of the scalar's source text.
enum TemplateLocator {
    static func openings(in source: SourceFile, of node: YAMLNode) -> [SourcePosition] {
        let start = source.offset(line: node.span.start.line, column: node.span.start.column)
        let end = min(source.offset(line: node.span.end.line, column: node.span.end.column), source.bytes.count)
        guard start < end else { return [] }
        var positions: [SourcePosition] = []
        var i = start
        let brace = UInt8(ascii: "{")
        while i + 1 < end {
            if source.bytes[i] == brace && source.bytes[i + 1] == brace {
                positions.append(source.position(ofOffset: i))
                i += 2
                // `{{{` opens at the last two braces in the value as well.
                while i < end, source.bytes[i] == brace {
                    positions[positions.count - 1] = source.position(ofOffset: i - 1)
                    i += 1
                }
            } else {
                i += 1
            }
        }
        return positions
    }

    /// Parses a scalar node as a template, placing each reference at its own position.
    static func template(
        from node: YAMLNode, text: String, in source: SourceFile, diagnostics: inout DiagnosticSink
    ) -> Template? {
        guard text.containsBytes(of: "{{") else {
            return Template(parts: text.isEmpty ? [] : [.text(text)], span: node.span)
        }
        let parser = TemplateParser(
            file: source.path, openings: openings(in: source, of: node), fallback: node.span.start)
        return parser.parse(text, span: node.span, diagnostics: &diagnostics)
    }
}
