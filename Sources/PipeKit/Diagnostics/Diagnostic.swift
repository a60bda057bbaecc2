/// How bad a diagnostic is. Errors fail `pipe lint`; warnings fail it only with `--strict`.
/// The raw value is the word every format prints: SARIF's `level`, GitHub's command.
public enum Severity: String, Sendable, Hashable, CaseIterable {
    case error
    case warning
}

/// One problem found in a spec: a rule, a severity, where, what, and how to fix it.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var rule: RuleID
    public var severity: Severity
    public var span: Span
    public var message: String
    /// How to fix it, when we know ("did you mean `key_findings`?").
    public var hint: String?
    /// Other places that explain the problem (the first of two duplicate keys).
    public var related: [RelatedLocation]

    public init(
        _ rule: RuleID, _ severity: Severity? = nil, at span: Span, _ message: String,
        hint: String? = nil, related: [RelatedLocation] = []
    ) {
        self.rule = rule
        self.severity = severity ?? rule.defaultSeverity
        self.span = span
        self.message = message
        self.hint = hint
        self.related = related
    }

    /// `path:line:col: severity: message [rule]`
    public var description: String {
        "\(span.file):\(span.start): \(severity.rawValue): \(message) [\(rule.rawValue)]"
    }
}

/// A secondary place mentioned by a diagnostic.
public struct RelatedLocation: Sendable, Hashable {
    public var span: Span
    public var message: String

    public init(_ span: Span, _ message: String) {
        self.span = span
        self.message = message
    }
}

/// Where the compiler's passes report problems: one sink, in the order found.
public struct DiagnosticSink: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []

    public init() {}

    /// Adds a diagnostic made elsewhere (a rule's own sink, gathered by `RuleRegistry`).
    public mutating func report(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    public mutating func report(
        _ rule: RuleID, at span: Span, _ message: String, hint: String? = nil, related: [RelatedLocation] = []
    ) {
        diagnostics.append(Diagnostic(rule, at: span, message, hint: hint, related: related))
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Diagnostics in file order; at the same place, in the order they were found.
    public var sorted: [Diagnostic] {
        // Files in the order they first appear (a spec, then the child specs it runs), then
        // places: a strict order, whatever mix of files the diagnostics come in.
        var rank: [String: Int] = [:]
        for diagnostic in diagnostics where rank[diagnostic.span.file] == nil { rank[diagnostic.span.file] = rank.count }
        return diagnostics.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if x.span.file != y.span.file { return rank[x.span.file, default: 0] < rank[y.span.file, default: 0] }
            if x.span.start != y.span.start { return x.span.start < y.span.start }
            return a.offset < b.offset
        }.map(\.element)
    }
}
