import Testing
@testable import PipeKit

/// A stage's fingerprint is what stores already hold (a resumed run finds its stages by it),
/// whether made from the stage or from the parts a runner keeps for all its runs.
@Suite struct StageFingerprintTests {
    static let spec = """
        version: 1
        name: fp
        defaults: { model: m, max_tokens: 100 }
        models:
          m: { provider: anthropic, model: claude-fp }
        input:
          schema: { type: object, properties: { id: { type: integer } }, required: [id] }
        stages:
          answer:
            temperature: 0.5
            prompt: "Answer item {{ input.id }}."
            output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
          list:
            run: [ls, "{{ answer.label }}"]
        """

    /// The SHA-256 of the parts joined with U+001F, as the store's fingerprints always were.
    static func joined(_ parts: [String]) -> String {
        SHA256.hex(parts.joined(separator: "\u{1F}"))
    }

    @Test func modelStageFingerprintIsTheStoredOne() throws {
        let pipeline = try compileSpec(Self.spec)
        let stage = try #require(pipeline.stages.first { $0.name == "answer" })
        guard case .model(let model) = stage.kind else { Issue.record("not a model stage"); return }
        let expected = Self.joined([
            "stage", "answer", "anthropic/claude-fp/-", "100", "0.5", String(model.retries),
            #"{"type":"object","required":["label"],"properties":{"label":{"type":"string"}}}"#,
            "-", "Answer item 7.", "Answer item {{ input.id }}.",
        ])
        #expect(Fingerprint.stage(stage, rendered: ["-", "Answer item 7."]) == expected)
    }

    /// The parts a runner keeps serve every run: each rendered input gets its own fingerprint,
    /// the same as one made from the stage itself.
    @Test func keptPartsServeEveryRun() throws {
        let pipeline = try compileSpec(Self.spec)
        for stage in pipeline.stages {
            let planned = PipelineRunner.PlannedStage(stage, validator: nil)
            let first = Fingerprint.stage(planned.fingerprintParts, rendered: ["-", "Answer item 1."])
            let second = Fingerprint.stage(planned.fingerprintParts, rendered: ["-", "Answer item 2."])
            #expect(first == Fingerprint.stage(stage, rendered: ["-", "Answer item 1."]))
            #expect(second == Fingerprint.stage(stage, rendered: ["-", "Answer item 2."]))
            #expect(first != second)
        }
        let list = try #require(pipeline.stages.first { $0.name == "list" })
        #expect(Fingerprint.stage(list, rendered: ["ls", "x", "-", ""]) == Self.joined(["command", "list", "argv", "text", "ls", "x", "-", "", "ls", "{{ answer.label }}"]))
    }
}
