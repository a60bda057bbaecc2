/// One linted file: its text (to quote lines) and its diagnostics in file order.
public struct LintedFile: Sendable {
    public var source: SourceFile
    public var diagnostics: [Diagnostic]

    public init(source: SourceFile, diagnostics: [Diagnostic]) {
        self.source = source
        self.diagnostics = diagnostics
    }
}

/// A way to print diagnostics: `--format text|json|github|sarif`.
public protocol DiagnosticFormat {
    func render(_ files: [LintedFile]) -> String
}

public enum DiagnosticFormatName: String, CaseIterable, Sendable {
    case text, json, github, sarif

    public func format(color: Bool = false) -> any DiagnosticFormat {
        switch self {
        case .text: TextFormat(color: color)
        case .json: JSONFormat()
        case .github: GitHubFormat()
        case .sarif: SARIFFormat()
        }
    }
}
