import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Schemas that cannot be used as written: a `pattern` that backtracks exponentially, a
/// `$ref` cycle that never reaches a value. Each ends with a message, never a hang.
@Suite struct HostileSchemaTests {
    /// ICU took half a minute on this pattern and a run of 60 word characters, without a limit.
    static let catastrophic = #"(\w+\s?)*!"#
    static let sixty = String(repeating: "a", count: 60)
    static let stepsMessage = #"pattern "(\\w+\\s?)*!" needed more than 10000000 matching steps; simplify it"#
    /// In-process tests lower the limit, so as not to hold a processor for long.
    static let options = JSONSchemaOptions(patternStepLimit: 100_000)

    @Test func aCatastrophicPatternStopsAtTheStepLimit() throws {
        let schema = try JSONSchema(compiling: ["type": "array", "items": ["pattern": .string(Self.catastrophic)]], options: Self.options)
        let errors = schema.validate(.array([.string(Self.sixty), .string(Self.sixty)]))
        // The first exhausted match ends the validation: one error, where it happened.
        #expect(errors.map(\.description) == [#"/0: pattern "(\\w+\\s?)*!" needed more than 100000 matching steps; simplify it"#])
        #expect(!schema.isValid([.string(Self.sixty)]))
        // Property names too, and the match is not tried again on every other name.
        let names = try JSONSchema(compiling: ["patternProperties": [Self.catastrophic: true], "additionalProperties": false], options: Self.options)
        let object = JSONValue.object(JSONObject((0..<200).map { ("\($0)" + Self.sixty, JSONValue.null) }))
        #expect(names.validate(object).count == 1)
        // `not` cannot turn an unfinished match into a success.
        let negated = try JSONSchema(compiling: ["not": ["pattern": .string(Self.catastrophic)]], options: Self.options)
        #expect(!negated.isValid(.string(Self.sixty)))
        // The same pattern on text it matches, or fails quickly, is fine.
        #expect(try JSONSchema(compiling: ["pattern": .string(Self.catastrophic)], options: Self.options).validate("hello world!").isEmpty)
        // The built-in matcher has the same limit: nested stars backtrack polynomially.
        let simple = try #require(SimpleRegex(#"^\w*\w*\w*\w*\w*\w*$"#))
        #expect(simple.matches(Self.sixty + "!", stepLimit: 100_000) == nil)
        #expect(simple.matches(Self.sixty, stepLimit: 100_000) == true)
    }

    @Test func aCancelledTaskStopsMatching() async throws {
        let schema = try JSONSchema(compiling: ["pattern": .string(Self.catastrophic)], options: Self.options)
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

    @Test func aRefCycleThatStaysOnOneValueIsNotASchema() throws {
        let cycles: [(JSONValue, [String], String)] = [
            (["$ref": "#"], ["#", "#"], "/$ref"),
            (["$defs": ["a": ["$ref": "#/$defs/b"], "b": ["$ref": "#/$defs/a"]], "$ref": "#/$defs/a"],
             ["#/$defs/a", "#/$defs/b", "#/$defs/a"], "/$defs/a/$ref"),
            (["allOf": [["$ref": "#"]]], ["#", "#/allOf/0", "#"], "/allOf"),
            (["type": "object", "if": ["required": ["a"]], "then": ["$ref": "#/$defs/t"], "$defs": ["t": ["not": ["$ref": "#"]]]],
             ["#", "#/then", "#/$defs/t", "#/$defs/t/not", "#"], "/then"),
        ]
        for (schema, chain, location) in cycles {
            #expect(throws: SchemaError.referenceCycle(chain: chain, location: location), "\(schema)") {
                try JSONSchema(compiling: schema)
            }
        }
        // Recursion through properties or items consumes the value: it is fine.
        let tree = try JSONSchema(compiling: ["properties": ["children": ["items": ["$ref": "#"]]], "allOf": [["$ref": "#/$defs/n"]],
                                              "$defs": ["n": ["type": "object"]]])
        #expect(tree.isValid(["children": [["children": []]]]))
        #expect(!tree.isValid(["children": [1]]))
    }

    @Test func checkJSONExitsTwoForARefCycle() async throws {
        let folder = try TemporaryFolder("pipe-cycle")
        try Data(##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##.utf8)
            .write(to: folder.url.appendingPathComponent("schema.json"))
        let result = try await runPipe(["check-json", "--schema", "schema.json", "-"], stdin: "{}", directory: folder.url)
        #expect(result.status == 2)
        #expect(result.stderr == "schema.json: unusable schema: /$defs/a/$ref: $ref cycle #/$defs/a → #/$defs/b → #/$defs/b/allOf/0 → #/$defs/a never reaches a value, so nothing can be validated against it\n")
    }

    /// `1e400` is one number in a spec's schema, a mock value and a JSON input alike.
    @Test func aNumberBeyondADoubleIsANumberInYAMLAsInJSON() async throws {
        let folder = try TemporaryFolder("pipe-number")
        let spec = folder.url.appendingPathComponent("spec.yaml")
        try Data("""
            version: 1
            input: { schema: { type: number, maximum: 1e400 } }
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              big:
                prompt: "Repeat {{ input }}"
                output: { schema: { type: number, minimum: 1e399 } }
                mock: [1e400]
            output: "{{ big }}"
            """.utf8).write(to: spec)
        let lint = try await runPipe(["lint", spec.path])
        #expect(lint.status == 0, "\(lint.stdout)")
        let run = try await runPipe(["run", "--mock", "--no-store", spec.path], stdin: "1e400")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try JSONParser.parse(run.stdout) == (try JSONParser.parse("1e400")))
        #expect(try await runPipe(["run", "--mock", "--no-store", spec.path], stdin: "1e401").status == 3)
    }

    /// Replies are validated off the HTTP thread: while one stage's reply spends its step
    /// limit, an independent stage's reply is received and the stage finishes.
    @Test func aSlowValidationDelaysNoOtherStage() async throws {
        let folder = try TemporaryFolder("pipe-pattern")
        let spec = folder.url.appendingPathComponent("spec.yaml"), trace = folder.url.appendingPathComponent("trace.jsonl")
        try Data("""
            version: 1
            models: { claude: { provider: anthropic, model: claude-test } }
            defaults: { model: claude, max_tokens: 100, retries: 0, timeout: 60s }
            stages:
              slow:
                prompt: "STAGE slow"
                output: { schema: { type: object, required: [word], properties: { word: { type: string, pattern: "(\\\\w+\\\\s?)*!" } } } }
              fast:
                prompt: "STAGE fast"
            output: { slow: "{{ slow.word }}", fast: "{{ fast }}" }
            """.utf8).write(to: spec)
        let server = FakeLLMServer { request in
            // The fast reply comes a little after the slow one, so that it arrives while the
            // slow one is being validated.
            request.prompt.contains("STAGE slow")
                ? .text(#"{"word": "\#(Self.sixty)"}"#) : FakeReply.text("fast words").delayed(by: .milliseconds(50))
        }
        try server.start()
        defer { server.stop() }
        let environment = ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "sk-ant-test"]
        let result = try await runPipe(["run", "--no-store", "--trace", trace.path, spec.path], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("stage `slow` failed after 1 attempt"))
        #expect(result.stderr.contains("/word: " + Self.stepsMessage))
        let events = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let order = events.compactMap { event -> String? in
            guard let stage = event["stage"]?.stringValue, let name = event["event"]?.stringValue else { return nil }
            return "\(stage) \(name)"
        }
        let fastEnd = try #require(order.firstIndex(of: "fast stage_end"))
        let slowChecked = try #require(order.firstIndex(of: "slow validation_failed"))
        #expect(fastEnd < slowChecked, "\(order)")
        #expect(events.first { $0["event"] == "stage_end" && $0["stage"] == "fast" }?["status"] == "succeeded")
    }
}
