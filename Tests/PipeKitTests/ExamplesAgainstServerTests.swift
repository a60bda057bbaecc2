import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Every example pipeline, run end to end by `pipe run` against the fake Anthropic/OpenAI
/// server: real providers, streaming, structured output. The server answers each stage
/// with a value valid for that stage's schema (its `mock:` values first).
@Suite struct ExamplesAgainstServerTests {
    /// Examples whose models all use the default endpoints (one with a local `base_url`
    /// would not reach the fake server).
    static let examples = Paths.files(in: Paths.pipelines, withExtension: "yaml").filter { url in
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return false }
        return !text.contains("base_url:")
    }

    /// For each stage: the text its prompt starts with, and what to answer.
    static func replies(for pipeline: CompiledPipeline) -> [(marker: String, reply: String)] {
        pipeline.stages.map { stage in
            var marker = ""
            if case .text(let text) = stage.prompt.parts.first { marker = text }
            let value = stage.mockReplies.first ?? stage.outputSchema.map { MockValueGenerator(schema: $0).value() }
            return (marker, value.map(TemplateRenderer.text(of:)) ?? "A reply for \(stage.name).")
        }.sorted { $0.marker.count > $1.marker.count }
    }

    @Test(arguments: examples)
    func anExampleRunsAgainstTheFakeServer(_ spec: URL) async throws {
        let source = SourceFile(path: spec.path, bytes: [UInt8](try Data(contentsOf: spec)))
        let pipeline = try #require(Compiler.compile(source, directory: spec.deletingLastPathComponent().path).pipeline)
        let replies = Self.replies(for: pipeline)
        let server = FakeLLMServer { request in
            .text(replies.first { request.prompt.contains($0.marker) }?.reply ?? "A reply.")
        }
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["run", "--no-store", "--approve-all", spec.path, "--input", RunCommandTests.sampleInput(for: spec).path],
            environment: [
                "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
                "ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.isEmpty)
        #expect(!result.stderr.contains("retrying"), "\(result.stderr)")
        #expect(server.log.count >= pipeline.stages.filter { $0.when == nil && $0.forEach == nil }.count)
        #expect(server.log.allSatisfy { $0.status == 200 })
    }
}
