import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Every example pipeline, run end to end by `pipe run` against the fake Anthropic/OpenAI
/// server: real providers, streaming, structured output. The server answers each stage
/// with a value valid for that stage's schema (its `mock:` values first).
@Suite struct ExamplesAgainstServerTests {
    /// Examples whose models all use the default endpoints (one with a local `base_url`
    /// would not reach the fake server), and that use no tools (their servers need the MCP
    /// client; `ToolLoopTests` runs the tool loop against this server).
    static let examples = Paths.files(in: Paths.pipelines, withExtension: "yaml").filter { url in
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return false }
        return !text.contains("base_url:") && !text.contains("\ntools:")
    }

    /// For each stage: the text its prompt starts with, and what to answer.
    static func replies(for pipeline: CompiledPipeline) -> [(stage: String, marker: String, reply: String)] {
        // A child spec's stages (`pipeline:`) are answered like the parent's.
        func stages(of pipeline: CompiledPipeline) -> [CompiledStage] {
            pipeline.stages.flatMap { stage -> [CompiledStage] in
                if case .pipeline(let child) = stage.kind { return [stage] + stages(of: child.child) }
                return [stage]
            }
        }
        return stages(of: pipeline).map { stage in
            var marker = ""
            switch stage.kind {
            case .model(let model): if case .text(let text) = model.prompt.parts.first { marker = text }
            case .command, .pipeline: break
            }
            let value = stage.mockReplies.first ?? stage.outputSchema.map { MockValueGenerator(schema: $0).value() }
            return (stage.name, marker, value.map(TemplateRenderer.text(of:)) ?? "A reply for \(stage.name).")
        }.sorted { $0.marker.count > $1.marker.count }
    }

    /// What the output must hold where the replies decide it: the fields whose templates read
    /// only the input and stages that run once (no `for_each`, no `when`), whose values are
    /// the server's replies.
    static func expectedFields(
        of pipeline: CompiledPipeline, replies: [(stage: String, marker: String, reply: String)], input: JSONValue
    ) throws -> [(name: String, value: JSONValue)] {
        var values = ["input": input]
        for (name, _, reply) in replies {
            // A command stage's value is its program's stdout, not a reply.
            guard let stage = pipeline.stage(named: name), stage.forEach == nil, stage.when == nil, !stage.models.isEmpty
            else { continue }
            values[name] = stage.outputSchema == nil ? .string(reply) : try JSONParser.parse(reply)
        }
        let fields: [(name: String, template: Template)] =
            switch pipeline.output {
            case .single(let template): [("", template)]
            case .fields(let fields): fields
            case .sinks: []
            }
        let renderer = TemplateRenderer(values: values)
        return fields.filter { $0.template.references.allSatisfy { values[$0.root.value] != nil } }
            .map { ($0.name, renderer.evaluate($0.template)) }
    }

    @Test(arguments: examples)
    func anExampleRunsAgainstTheFakeServer(_ spec: URL) async throws {
        let pipeline = try DeclaredOutput.compile(spec)
        let replies = Self.replies(for: pipeline)
        let server = FakeLLMServer { request in
            .text(replies.first { request.prompt.contains($0.marker) }?.reply ?? "A reply.")
        }
        try server.start()
        defer { server.stop() }
        let inputFile = RunCommandTests.sampleInput(for: spec)
        let result = try await runPipe(
            ["run", "--no-store", "--approve-all", "--json", spec.path, "--input", inputFile.path],
            environment: [
                "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
                "ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("retrying"), "\(result.stderr)")
        #expect(server.log.count >= pipeline.stages.filter { $0.when == nil && $0.forEach == nil && !$0.models.isEmpty }.count)
        #expect(server.log.allSatisfy { $0.status == 200 })
        // The output has the declared keys and types, and holds what the server answered.
        let output = try JSONParser.parse(result.stdout)
        let declared = DeclaredOutput(pipeline: pipeline)
        #expect(declared.problems(in: output).isEmpty, "\(declared.problems(in: output))")
        let input = try RunInput.read([UInt8](try Data(contentsOf: inputFile)), schema: pipeline.inputSchema, validator: nil)
        let expected = try Self.expectedFields(of: pipeline, replies: replies, input: input)
        #expect(!expected.isEmpty)
        for (name, value) in expected {
            #expect((name.isEmpty ? output : output[name]) == value, "`\(name)`")
        }
    }
}
