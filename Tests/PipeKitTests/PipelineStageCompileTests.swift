import Foundation
import Testing
@testable import PipeKit

/// Compiling `pipeline:` stages beyond the lint corpus: a batch's stored files compile the
/// same child, and nesting is bounded.
@Suite struct PipelineStageCompileTests {
    static let parent = Paths.testdata.appendingPathComponent("run/pipelines/parent.yaml")

    @Test func aBatchsStoredFilesCompileTheSameChild() throws {
        let source = SourceFile(path: "parent.yaml", bytes: [UInt8](try Data(contentsOf: Self.parent)))
        let fromDisk = try #require(Compiler.compile(source, directory: Self.parent.deletingLastPathComponent().path).pipeline)
        // What `pipe batch` stores: the child spec's text by its path from the parent's directory.
        #expect(fromDisk.schemaFiles.keys.contains("teams/team.yaml"))
        let stored = Compiler.compile(source, schemaFiles: .stored(fromDisk.schemaFiles))
        #expect(stored.diagnostics.isEmpty, "\(stored.diagnostics)")
        let pipeline = try #require(stored.pipeline)
        guard case .pipeline(let team) = pipeline.stage(named: "team")?.kind else {
            Issue.record("`team` is not a pipeline stage")
            return
        }
        #expect(team.child.stages.map(\.name) == ["researcher", "reviewer"])
        guard case .pipeline(let original) = fromDisk.stage(named: "team")?.kind else { return }
        #expect(team.digest == original.digest)
    }

    @Test func nestingDeeperThanTheLimitIsAnError() throws {
        let folder = try TemporaryFolder("pipe-nesting")
        let depth = ChildSpecs.maxDepth + 2
        for level in 0..<depth {
            let stage = level + 1 < depth
                ? "  down:\n    pipeline: level\(level + 1).yaml\n"
                : "  leaf:\n    model: m\n    prompt: \"{{ input }}\"\n"
            let text = "version: 1\nmodels: { m: { provider: mock } }\nstages:\n" + stage
            try text.write(to: folder.url.appendingPathComponent("level\(level).yaml"), atomically: true, encoding: .utf8)
        }
        let source = SourceFile(path: "level0.yaml", bytes: [UInt8](try Data(contentsOf: folder.url.appendingPathComponent("level0.yaml"))))
        let result = Compiler.compile(source, directory: folder.url.path)
        #expect(result.pipeline == nil)
        let deep = result.diagnostics.filter { $0.rule == .pipelineStage }
        #expect(deep.count == 1)
        #expect(deep.first?.message.contains("nested more than \(ChildSpecs.maxDepth) specs deep") == true, "\(deep)")
        #expect(deep.first?.span.file == "level\(ChildSpecs.maxDepth - 1).yaml")
    }
}
