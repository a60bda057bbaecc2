/// One JSON document: each file with its cases (name, passed, exit, seconds, failures),
/// and the counts.
enum TestReportJSON {
    static func render(_ results: [TestFileResults]) -> String {
        let files: [JSONValue] = results.map { file in
            [
                "file": .string(file.file), "spec": .string(file.spec),
                "cases": .array(file.cases.map { result in
                    [
                        "name": .string(result.name), "passed": .bool(result.passed), "exit": .number(JSONNumber(result.exit)),
                        "seconds": .number(JSONNumber(result.duration.testSeconds)),
                        "failures": .array(result.failures.map(JSONValue.string)),
                    ]
                }),
            ]
        }
        let total = results.reduce(0) { $0 + $1.cases.count }
        let failed = results.reduce(0) { $0 + $1.failed }
        let document: JSONValue = [
            "files": .array(files), "cases": .number(JSONNumber(total)), "passed": .number(JSONNumber(total - failed)),
            "failed": .number(JSONNumber(failed)),
        ]
        return document.serialized(pretty: true) + "\n"
    }
}
