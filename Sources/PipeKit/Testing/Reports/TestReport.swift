/// The results of `pipe test`: each test file with its cases' results, written by one of
/// the formats (`TestReportFormat`: text, junit, json).
public struct TestFileResults: Sendable {
    /// The test file, as named on the command line.
    public var file: String
    public var spec: String
    public var cases: [TestCaseResult]

    public init(file: String, spec: String, cases: [TestCaseResult]) {
        self.file = file
        self.spec = spec
        self.cases = cases
    }

    public var failed: Int { cases.filter { !$0.passed }.count }
}

/// How `pipe test` writes its results on stdout.
public enum TestReportFormat: String, Sendable, CaseIterable {
    case text, junit, json

    public func render(_ results: [TestFileResults]) -> String {
        switch self {
        case .text: TestReportText.render(results)
        case .junit: TestReportJUnit.render(results)
        case .json: TestReportJSON.render(results)
        }
    }
}

extension Duration {
    /// Seconds, as JUnit's `time` and the JSON report's `seconds` write them.
    var testSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
