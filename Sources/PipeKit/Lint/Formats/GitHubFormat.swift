/// GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.
/// `::error file=spec.yaml,line=3,col=5,endLine=3,endColumn=9,title=unknown-key::message`
/// Past `LintedFile.maxShown` diagnostics in a file, one `::notice` counts the others.
public struct GitHubFormat: DiagnosticFormat {
    public init() {}

    public func write<Failure: Error>(_ files: [LintedFile], to write: (String) throws(Failure) -> Void) throws(Failure) {
        for file in files {
            for diagnostic in file.shown {
                let command = diagnostic.severity.rawValue
                let span = diagnostic.span
                var message = diagnostic.message
                if let hint = diagnostic.hint { message += " (hint: \(hint))" }
                try write(
                    "::\(command) file=\(property(span.file)),line=\(span.start.line),col=\(span.start.column)"
                        + ",endLine=\(span.end.line),endColumn=\(span.end.column),title=\(property("pipe lint: " + diagnostic.rule.rawValue))"
                        + "::\(data(message))\n")
            }
            if file.omitted > 0 {
                try write("::notice file=\(property(file.source.path)),title=\(property("pipe lint"))::\(data(file.omittedMessage))\n")
            }
        }
    }

    /// Line breaks as GitHub encodes them; other control characters escaped (`\u001b`).
    private func data(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            case _ where scalar.isControl: out += scalar.escaped
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}
