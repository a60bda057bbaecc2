/// GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.
/// `::error file=spec.yaml,line=3,col=5,endLine=3,endColumn=9,title=unknown-key::message`
public struct GitHubFormat: DiagnosticFormat {
    public init() {}

    public func render(_ files: [LintedFile]) -> String {
        var out = ""
        for diagnostic in files.flatMap(\.diagnostics) {
            let span = diagnostic.span
            var message = diagnostic.message
            if let hint = diagnostic.hint { message += " (hint: \(hint))" }
            out += "::\(diagnostic.severity.rawValue) file=\(property(span.file)),line=\(span.start.line),col=\(span.start.column)"
            out += ",endLine=\(span.end.line),endColumn=\(span.end.column),title=\(property("pipe lint: " + diagnostic.rule.rawValue))"
            out += "::\(data(message))\n"
        }
        return out
    }

    private func data(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    private func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
