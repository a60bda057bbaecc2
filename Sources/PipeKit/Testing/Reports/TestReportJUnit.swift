/// JUnit XML, as CI systems read it: `<testsuites>` holding a `<testsuite>` per test file,
/// a `<testcase>` per case, with a `<failure>` (its first miss as `message`, all of them as
/// text) when it failed.
enum TestReportJUnit {
    static func render(_ results: [TestFileResults]) -> String {
        let total = results.reduce(0) { $0 + $1.cases.count }
        let failed = results.reduce(0) { $0 + $1.failed }
        let time = results.flatMap(\.cases).reduce(Duration.zero) { $0 + $1.duration }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"pipe test\" tests=\"\(total)\" failures=\"\(failed)\" errors=\"0\" time=\"\(seconds(time))\">\n"
        for file in results {
            let fileTime = file.cases.reduce(Duration.zero) { $0 + $1.duration }
            out += "  <testsuite name=\"\(XMLText.escape(file.file))\" tests=\"\(file.cases.count)\" failures=\"\(file.failed)\" errors=\"0\" skipped=\"0\" time=\"\(seconds(fileTime))\">\n"
            out += "    <properties><property name=\"spec\" value=\"\(XMLText.escape(file.spec))\"/></properties>\n"
            for result in file.cases {
                let open = "    <testcase name=\"\(XMLText.escape(result.name))\" classname=\"\(XMLText.escape(suiteName(file.file)))\" time=\"\(seconds(result.duration))\""
                guard let first = result.failures.first else {
                    out += open + "/>\n"
                    continue
                }
                out += open + ">\n"
                out += "      <failure message=\"\(XMLText.escape(first))\" type=\"expectation\">\(XMLText.escape(result.failures.joined(separator: "\n")))</failure>\n"
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// `research-report` for `pipelines/research-report.test.yaml`.
    static func suiteName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".test.yaml", ".test.yml"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return name
    }

    static func seconds(_ duration: Duration) -> String {
        String(format3: duration.testSeconds)
    }
}

extension String {
    /// A number with three decimals (`0.004`), without Foundation's locale.
    init(format3 value: Double) {
        let thousandths = Int((value * 1000).rounded())
        let fraction = thousandths % 1000
        self = "\(thousandths / 1000)." + String(repeating: "0", count: fraction < 10 ? 2 : fraction < 100 ? 1 : 0) + "\(fraction)"
    }
}
