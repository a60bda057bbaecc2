import Foundation
import PipeKit

/// `pipe-bench validate [--iterations N] [--out DIR]`: median time to validate a ~100 KB document
/// against a ~50-keyword schema, both generated deterministically. Writes them to DIR
/// (default /tmp/pipe-bench-validate) so `bench/validate_jsonschema.py` can time Python's
/// `jsonschema` on exactly the same input.
enum ValidatorBenchmark {
    static let command = BenchCommand(
        name: "validate",
        summary: "JSON Schema validation of a ~100 KB document against a 50-keyword schema: [--iterations N] [--out DIR]",
        usage: "usage: pipe-bench validate [--iterations N] [--out DIR]", valued: ["--iterations", "--out"], run: run)

    @Sendable static func run(_ options: BenchOptions) async throws(BenchOptions.Exit) -> Int32 {
        let iterations = try options.number("--iterations", default: 2000)
        let directory = options.text("--out") ?? "/tmp/pipe-bench-validate"
        do {
            return try measure(iterations: iterations, directory: directory)
        } catch {
            print("pipe-bench validate: \(error)")
            return 1
        }
    }

    static func measure(iterations: Int, directory: String) throws -> Int32 {
        let schemaValue = schema()
        let documentValue = document(records: 260)
        let documentText = documentValue.serialized()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(schemaValue.serialized(pretty: true).utf8).write(to: URL(fileURLWithPath: directory + "/schema.json"))
        try Data(documentText.utf8).write(to: URL(fileURLWithPath: directory + "/document.json"))

        let compiled = try JSONSchema(compiling: schemaValue)
        let parsed = try JSONParser.parse(documentText)
        precondition(compiled.validate(parsed).isEmpty, "the generated document must be valid")
        var invalid = parsed
        if case .object(var object) = invalid, case .array(var records)? = object["records"] {
            records[7] = ["id": "bad"]
            object["records"] = .array(records)
            invalid = .object(object)
        }

        print("document: \(documentText.utf8.count) bytes, schema: \(keywordCount(schemaValue)) keywords; files in \(directory)")
        report("parse document", iterations: max(50, iterations / 10)) { _ = try? JSONParser.parse(documentText) }
        report("validate (all errors)", iterations: iterations) { _ = compiled.validate(parsed) }
        report("isValid (first failure)", iterations: iterations) { _ = compiled.isValid(parsed) }
        report("validate invalid document", iterations: iterations) { _ = compiled.validate(invalid) }
        return 0
    }

    /// Times `body` `iterations` times (after a warm-up) and prints the median and the 90th percentile.
    static func report(_ label: String, iterations: Int, _ body: () -> Void) {
        for _ in 0..<min(50, iterations) { body() }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            samples.append(clock.measure(body))
        }
        samples.sort()
        func micros(_ d: Duration) -> String {
            let (seconds, attoseconds) = d.components
            return String(format: "%.1f µs", Double(seconds) * 1e6 + Double(attoseconds) / 1e12)
        }
        print("\(label.padding(toLength: 28, withPad: " ", startingAt: 0)) median \(micros(samples[samples.count / 2]))  p90 \(micros(samples[samples.count * 9 / 10]))  (\(iterations) runs)")
    }

    static func keywordCount(_ value: JSONValue) -> Int {
        switch value {
        case .object(let object):
            var count = 0
            for (key, member) in object {
                let isContainer = key == "properties" || key == "$defs"
                if !isContainer { count += 1 }
                if isContainer, case .object(let children) = member {
                    count += children.values.reduce(0) { $0 + keywordCount($1) }
                } else {
                    count += keywordCount(member)
                }
            }
            return count
        case .array(let array):
            return array.reduce(0) { $0 + keywordCount($1) }
        default:
            return 0
        }
    }

    /// A report of research records: typical of what a pipeline stage returns.
    static func schema() -> JSONValue {
        [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["title", "generated", "records", "summary"],
            "additionalProperties": false,
            "properties": [
                "title": ["type": "string", "minLength": 1, "maxLength": 200],
                "generated": ["type": "string", "format": "date-time"],
                "summary": [
                    "type": "object",
                    "required": ["count", "confidence"],
                    "properties": [
                        "count": ["type": "integer", "minimum": 0],
                        "confidence": ["enum": ["low", "medium", "high"]],
                    ],
                ],
                "records": ["type": "array", "minItems": 1, "maxItems": 10000, "items": ["$ref": "#/$defs/record"]],
            ],
            "$defs": [
                "record": [
                    "type": "object",
                    "required": ["id", "claim", "score", "tags", "source"],
                    "additionalProperties": false,
                    "properties": [
                        "id": ["type": "string", "pattern": "^rec-[0-9]{5}$"],
                        "claim": ["type": "string", "minLength": 1, "maxLength": 2000],
                        "score": ["type": "number", "minimum": 0, "maximum": 1],
                        "rank": ["type": "integer", "exclusiveMinimum": 0],
                        "verified": ["type": "boolean"],
                        "tags": ["type": "array", "items": ["type": "string", "maxLength": 32], "uniqueItems": true, "maxItems": 8],
                        "source": [
                            "type": "object",
                            "required": ["url", "kind"],
                            "properties": [
                                "url": ["type": "string", "minLength": 8],
                                "kind": ["enum": ["paper", "article", "dataset", "interview"]],
                                "year": ["type": ["integer", "null"], "minimum": 1900, "maximum": 2100],
                            ],
                        ],
                        "note": ["anyOf": [["type": "string"], ["type": "null"]]],
                    ],
                ],
            ],
        ]
    }

    static func document(records count: Int) -> JSONValue {
        let kinds = ["paper", "article", "dataset", "interview"]
        let words = ["solar", "grid", "storage", "battery", "policy", "cost", "demand", "wind", "model", "forecast", "capacity", "market"]
        var records: [JSONValue] = []
        for i in 0..<count {
            var claim = ""
            for k in 0..<30 { claim += (k == 0 ? "" : " ") + words[(i * 7 + k * 3) % words.count] }
            let id = String(format: "rec-%05d", i)
            records.append([
                "id": .string(id),
                "claim": .string(claim),
                "score": .number(JSONNumber(Double((i * 37) % 100) / 100)),
                "rank": .number(JSONNumber(i + 1)),
                "verified": .bool(i % 3 == 0),
                "tags": .array((0..<(i % 5 + 1)).map { .string(words[(i + $0) % words.count]) }),
                "source": [
                    "url": .string("https://example.org/sources/\(i)"),
                    "kind": .string(kinds[i % kinds.count]),
                    "year": i % 4 == 0 ? .null : .number(JSONNumber(1990 + i % 30)),
                ],
                "note": i % 2 == 0 ? .null : .string("checked against the \(words[i % words.count]) dataset"),
            ])
        }
        return [
            "title": "Grid storage: findings",
            "generated": "2026-01-15T10:00:00Z",
            "summary": ["count": .number(JSONNumber(count)), "confidence": "medium"],
            "records": .array(records),
        ]
    }
}
