/// One linted file: its text (to quote lines) and its diagnostics in file order.
public struct LintedFile: Sendable {
    public var source: SourceFile
    public var diagnostics: [Diagnostic]

    /// The most diagnostics printed for one file; one line after them counts the others.
    public static let maxShown = 200

    public init(source: SourceFile, diagnostics: [Diagnostic]) {
        self.source = source
        self.diagnostics = diagnostics
    }

    /// The diagnostics printed: the first `maxShown`.
    public var shown: ArraySlice<Diagnostic> { diagnostics.prefix(Self.maxShown) }

    /// How many diagnostics are not printed.
    public var omitted: Int { max(0, diagnostics.count - Self.maxShown) }

    /// What the line after the printed diagnostics says.
    public var omittedMessage: String {
        "\(omitted) more diagnostic\(omitted == 1 ? "" : "s") not shown (at most \(Self.maxShown) are printed per file)"
    }
}

/// A way to print diagnostics: `--format text|json|github|sarif`.
public protocol DiagnosticFormat {
    /// Writes the diagnostics of `files` through `write` a diagnostic at a time, never the
    /// whole text at once: at most `LintedFile.maxShown` of a file, then a note that counts
    /// the others.
    func write<Failure: Error>(_ files: [LintedFile], to write: (String) throws(Failure) -> Void) throws(Failure)
}

extension DiagnosticFormat {
    /// The whole text in one string, for tests and for the README's example.
    public func render(_ files: [LintedFile]) -> String {
        var out = ""
        write(files) { out += $0 }
        return out
    }
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

extension String {
    /// With the control characters (C0, DEL and C1: ESC and CSI drive a terminal, NEL breaks
    /// a line) written as `\u001b`, `\u0085`, so that a diagnostic prints them harmlessly.
    var escapingControls: String {
        guard unicodeScalars.contains(where: \.isControl) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            if scalar.isControl { out += scalar.escaped } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// C0 (tab and line breaks included), DEL and C1.
    var isControl: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }

    /// `\u` and four hex digits.
    var escaped: String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
