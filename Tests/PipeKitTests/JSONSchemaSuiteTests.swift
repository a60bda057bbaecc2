import Foundation
import Testing
@testable import PipeKit

/// Runs the official JSON-Schema-Test-Suite (https://github.com/json-schema-org/JSON-Schema-Test-Suite),
/// which sits beside the repository at `../shared/conformance/json-schema-test-suite`.
enum ConformanceSuite {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/conformance/json-schema-test-suite").standardized

    static var isAvailable: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("tests").path) }

    /// The suite's `remotes/` folder, served (as the suite expects) at http://localhost:1234/.
    static let remotes: [String: JSONValue] = {
        var result: [String: JSONValue] = [:]
        let base = root.appendingPathComponent("remotes")
        guard let enumerator = FileManager.default.enumerator(atPath: base.path) else { return result }
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".json"),
                  let data = FileManager.default.contents(atPath: base.appendingPathComponent(relative).path),
                  let value = try? JSONParser.parse([UInt8](data)) else { continue }
            result["http://localhost:1234/" + relative] = value
        }
        return result
    }()

    struct Outcome {
        var passed = 0
        var failures: [String] = []
        var total: Int { passed + failures.count }
    }

    /// Test files in `tests/DRAFT/FOLDER` (sorted).
    static func files(_ draft: String, _ folder: String = "") -> [URL] {
        let directory = root.appendingPathComponent("tests/\(draft)/\(folder)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func run(_ file: URL, draft: JSONSchemaDraft, assertFormat: Bool) -> Outcome {
        var outcome = Outcome()
        guard let data = FileManager.default.contents(atPath: file.path),
              let groups = try? JSONParser.parse([UInt8](data)).arrayValue else {
            outcome.failures.append("\(file.lastPathComponent): unreadable")
            return outcome
        }
        let options = JSONSchemaOptions(assertFormat: assertFormat, defaultDraft: draft, remotes: remotes)
        for group in groups {
            let groupName = "\(file.lastPathComponent) › \(group["description"]?.stringValue ?? "?")"
            let tests = group["tests"]?.arrayValue ?? []
            let schema: JSONSchema
            do {
                schema = try JSONSchema(compiling: group["schema"] ?? true, options: options)
            } catch {
                outcome.failures.append("\(groupName): schema did not compile: \(error)")
                continue
            }
            for test in tests {
                let name = "\(groupName) › \(test["description"]?.stringValue ?? "?")"
                let instance = test["data"] ?? .null
                let expected = test["valid"]?.boolValue ?? false
                let fast = schema.isValid(instance)
                let errors = schema.validate(instance)
                if fast != expected {
                    outcome.failures.append("\(name): expected \(expected ? "valid" : "invalid")\(errors.isEmpty ? "" : " — " + errors.map(\.description).joined(separator: "; "))")
                } else if errors.isEmpty != fast {
                    outcome.failures.append("\(name): validate() and isValid() disagree: \(errors.map(\.description))")
                } else {
                    outcome.passed += 1
                }
            }
        }
        return outcome
    }

    static func run(_ files: [URL], draft: JSONSchemaDraft, assertFormat: Bool) -> Outcome {
        var total = Outcome()
        for file in files {
            let outcome = run(file, draft: draft, assertFormat: assertFormat)
            total.passed += outcome.passed
            total.failures += outcome.failures
        }
        return total
    }
}

@Suite(.enabled(if: ConformanceSuite.isAvailable, "the conformance suite is not beside the repository"))
struct JSONSchemaSuiteTests {
    @Test func draft2020RequiredTests() {
        let files = ConformanceSuite.files("draft2020-12")
        #expect(files.count > 40)
        let outcome = ConformanceSuite.run(files, draft: .draft2020_12, assertFormat: false)
        print("JSON-Schema-Test-Suite draft2020-12 required: \(outcome.passed)/\(outcome.total) passed")
        for failure in outcome.failures { Issue.record("\(failure)") }
    }

    /// Format assertions (with `assertFormat`): must pass, apart from the known failures below.
    @Test func draft2020FormatTests() {
        let files = ConformanceSuite.files("draft2020-12", "optional/format")
        let outcome = ConformanceSuite.run(files, draft: .draft2020_12, assertFormat: true)
        let unexpected = outcome.failures.filter { failure in !Self.knownFormatFailures.contains { failure.hasPrefix($0) } }
        print("JSON-Schema-Test-Suite draft2020-12 optional/format: \(outcome.passed)/\(outcome.total) passed, \(outcome.failures.count - unexpected.count) known failures")
        for failure in unexpected { Issue.record("\(failure)") }
    }

    /// Other optional tests: reported, not required.
    @Test func draft2020OptionalTests() {
        let files = ConformanceSuite.files("draft2020-12", "optional")
        let outcome = ConformanceSuite.run(files, draft: .draft2020_12, assertFormat: false)
        print("JSON-Schema-Test-Suite draft2020-12 optional (non-format): \(outcome.passed)/\(outcome.total) passed")
        for failure in outcome.failures { print("  optional failure: \(failure)") }
    }

    /// Draft-07, when the suite folder has it (the copy beside the repository may hold 2020-12 only).
    @Test(.enabled(if: !ConformanceSuite.files("draft7").isEmpty, "no tests/draft7 in the suite folder"))
    func draft7RequiredTests() {
        let outcome = ConformanceSuite.run(ConformanceSuite.files("draft7"), draft: .draft7, assertFormat: false)
        print("JSON-Schema-Test-Suite draft7 required: \(outcome.passed)/\(outcome.total) passed")
        for failure in outcome.failures { Issue.record("\(failure)") }
    }

    /// Draft-07 references into the suite's draft-07 remotes (the suite beside the repository
    /// has no draft-07 tests, so these follow the shape of its refRemote cases).
    @Test func draft7RemoteReferences() throws {
        let options = JSONSchemaOptions(defaultDraft: .draft7, remotes: ConformanceSuite.remotes)
        let base = "http://localhost:1234/draft7/"
        let anchor = try JSONSchema(compiling: ["$ref": .string(base + "locationIndependentIdentifier.json#/definitions/refToInteger")], options: options)
        #expect(anchor.isValid(1) && !anchor.isValid("foo"))
        let nested = try JSONSchema(compiling: ["$ref": .string(base + "subSchemas.json#/definitions/refToInteger")], options: options)
        #expect(nested.isValid(1) && !nested.isValid("a"))
        let rootRef = try JSONSchema(compiling: [
            "$id": "http://localhost:1234/draft7/object",
            "type": "object",
            "properties": ["name": ["$ref": "name.json#/definitions/orNull"]],
        ], options: options)
        #expect(rootRef.isValid(["name": "foo"]) && rootRef.isValid(["name": nil]))
        #expect(!rootRef.isValid(["name": ["name": nil]]))
        let relative = try JSONSchema(compiling: [
            "$id": "http://localhost:1234/draft7/ref-and-definitions-root.json",
            "allOf": [["$ref": "ref-and-definitions.json"]],
        ], options: options)
        #expect(relative.isValid(["bar": "a"]) && !relative.isValid(["bar": 1]))
        // In draft-07 an `$id` beside `$ref` is ignored, so the relative reference has no base to resolve against.
        #expect(throws: SchemaError.self) {
            try JSONSchema(compiling: ["$id": "http://localhost:1234/draft7/root.json", "$ref": "ref-and-definitions.json"], options: options)
        }
    }

    /// Format cases we do not assert, with the reason. Matched as prefixes of failure names.
    static let knownFormatFailures: [String] = [
    ]
}
