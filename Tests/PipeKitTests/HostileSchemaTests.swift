import Foundation
import Testing
@testable import PipeKit

/// Schemas that cannot be used as written: a `pattern` that backtracks exponentially, a
/// `$ref` cycle that never reaches a value. Each ends with a message, never a hang.
@Suite struct HostileSchemaTests {
    /// ICU took half a minute on this pattern and a run of 60 word characters, without a limit.
    static let catastrophic = #"(\w+\s?)*!"#
    static let sixty = String(repeating: "a", count: 60)
    static let stepsMessage = #"pattern "(\\w+\\s?)*!" needed more than \#(ECMARegex.stepLimit) matching steps; simplify it"#

    @Test func aCatastrophicPatternStopsAtTheStepLimit() throws {
        let schema = try JSONSchema(compiling: ["type": "array", "items": ["pattern": .string(Self.catastrophic)]])
        let errors = schema.validate(.array([.string(Self.sixty), .string(Self.sixty)]))
        // The first exhausted match ends the validation: one error, where it happened.
        #expect(errors.map(\.description) == ["/0: " + Self.stepsMessage])
        #expect(!schema.isValid([.string(Self.sixty)]))
        // `not` cannot turn an unfinished match into a success.
        let negated = try JSONSchema(compiling: ["not": ["pattern": .string(Self.catastrophic)]])
        #expect(!negated.isValid(.string(Self.sixty)))
        // The same pattern on text it matches, or fails quickly, is fine.
        #expect(try JSONSchema(compiling: ["pattern": .string(Self.catastrophic)]).validate("hello world!").isEmpty)
        // The built-in matcher has the same limit: nested stars backtrack polynomially.
        let simple = try #require(SimpleRegex(#"^\w*\w*\w*\w*\w*\w*$"#))
        #expect(simple.matches(Self.sixty + "!", stepLimit: 100_000) == nil)
        #expect(simple.matches(Self.sixty, stepLimit: 100_000) == true)
    }

    @Test func aCancelledTaskStopsMatching() async throws {
        let schema = try JSONSchema(compiling: ["pattern": .string(Self.catastrophic)])
        let errors = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return schema.validate(.string(Self.sixty))
        }.value
        #expect(errors.map(\.description) == ["(root): validation was cancelled"])
    }

    @Test func checkJSONReportsTheStepLimit() async throws {
        let folder = try TemporaryFolder("pipe-pattern")
        try Data(#"{"type": "object", "properties": {"word": {"pattern": "(\\w+\\s?)*!"}}}"#.utf8)
            .write(to: folder.url.appendingPathComponent("schema.json"))
        try Data(#"{"word": "\#(Self.sixty)"}"#.utf8).write(to: folder.url.appendingPathComponent("doc.json"))
        let result = try await runPipe(["check-json", "--schema", "schema.json", "doc.json"], directory: folder.url)
        #expect(result.status == 1)
        #expect(result.stderr == "doc.json: /word: \(Self.stepsMessage)\n")
    }

    @Test func anInputThatHitsTheStepLimitExitsThree() async throws {
        let folder = try TemporaryFolder("pipe-pattern")
        let spec = folder.url.appendingPathComponent("spec.yaml")
        try Data("""
            version: 1
            input: { schema: { type: string, pattern: "(\\\\w+\\\\s?)*!" } }
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              echo: { prompt: "Echo {{ input }}" }
            """.utf8).write(to: spec)
        let result = try await runPipe(["run", "--no-store", spec.path], stdin: Self.sixty)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains(Self.stepsMessage))
    }
}
