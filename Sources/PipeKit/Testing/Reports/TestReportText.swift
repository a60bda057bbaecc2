/// A line per case (`PASS`/`FAIL`, its name, its time) under each file, and for a failed
/// case each expectation it missed, expected vs actual at its path; then the counts.
enum TestReportText {
    static func render(_ results: [TestFileResults]) -> String {
        var out = ""
        for file in results {
            out += "\(file.file) (\(file.spec))\n"
            for result in file.cases {
                out += "  \(result.passed ? "PASS" : "FAIL")  \(result.name.escapingControls) (\(DurationFormat.short(result.duration)))\n"
                for failure in result.failures {
                    let lines = failure.split(separator: "\n", omittingEmptySubsequences: false)
                    out += lines.map { "        " + String($0).escapingControls }.joined(separator: "\n") + "\n"
                }
            }
        }
        let total = results.reduce(0) { $0 + $1.cases.count }
        let failed = results.reduce(0) { $0 + $1.failed }
        out += "\(total) case\(total == 1 ? "" : "s"): \(total - failed) passed, \(failed) failed\n"
        return out
    }
}
