import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe eval --max-cost-usd` counts the judges' calls with the pipeline's (also those of the
/// items judged again after a resume), against the fake server whose costs follow from the
/// spec's prices (`EvalCommandTests.specText`).
@Suite struct EvalBudgetTests {
    @Test func theBudgetCountsTheJudgesAndStopsNewItems() async throws {
        let folder = try TemporaryFolder("pipe-eval-budget")
        let spec = folder.url.appendingPathComponent("classify.yaml").path
        try EvalCommandTests.specText.write(toFile: spec, atomically: true, encoding: .utf8)
        try EvalCommandTests.tests(minimum: 0.5)
            .write(to: folder.url.appendingPathComponent("classify.test.yaml"), atomically: true, encoding: .utf8)
        let dataset = folder.url.appendingPathComponent("golden.jsonl").path
        try (0..<10).map { #"{"input": {"id": "\#($0)", "text": "text \#($0)"}, "expected": {"label": "L\#($0)"}}"# }
            .joined(separator: "\n").appending("\n").write(toFile: dataset, atomically: true, encoding: .utf8)
        let server = FakeLLMServer(handler: EvalCommandTests.handler(wrong: []))
        try server.start()
        defer { server.stop() }
        let environment = [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k",
            "PIPE_STORE": folder.url.appendingPathComponent("runs.db").path,
        ]

        // Unbounded, to learn what an item and its judge cost (the same for every item).
        let full = try await runPipe(["eval", spec, "--dataset", dataset, "--format", "json", "--quiet"], environment: environment)
        #expect(full.status == 0, "\(full.stderr)")
        let board = try JSONParser.parse(full.stdout)
        let pipeline = try #require(board["pipeline"]?["cost_usd"]?.numberValue?.doubleValue) / 10
        let judge = try #require(board["judges"]?["cost_usd"]?.numberValue?.doubleValue) / 10
        #expect(pipeline > 0 && judge > pipeline / 2)
        server.resetLog()

        // One and a half items' worth: the second item's judge reaches it, and no third item
        // starts (the pipeline's cost alone would let a third start).
        let limit = 1.5 * (pipeline + judge)
        #expect(2 * pipeline < limit)
        let stopped = try await runPipe(
            ["eval", spec, "--dataset", dataset, "--concurrency", "1", "--max-cost-usd", "\(limit)"], environment: environment)
        #expect(stopped.status == 4, "\(stopped.stderr)")
        #expect(server.log.filter { $0.model == "claude-test" }.count == 2)
        #expect(server.log.filter { $0.model == "claude-judge" }.count == 2)
        #expect(
            stopped.stderr.contains(
                "the ended items cost \(RunLogText.usd(2 * pipeline)) and their judges \(RunLogText.usd(2 * judge))"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("continue the eval with: pipe eval --resume"))

        // Resumed with room for the 8 other items and half a judge: the 2 items that ended
        // before are judged again after the batch, against the same limit, so only one is.
        let id = try #require(stopped.stderr.split(separator: "\n").first { $0.hasPrefix("pipe: eval ") }?.split(separator: " ").last)
        server.resetLog()
        let short = try await runPipe(
            ["eval", "--resume", String(id), "--concurrency", "1", "--max-cost-usd", "\(8 * (pipeline + judge) + judge / 2)"],
            environment: environment)
        #expect(short.status == 4, "\(short.stderr)")
        #expect(server.log.filter { $0.model == "claude-test" }.count == 8)
        #expect(server.log.filter { $0.model == "claude-judge" }.count == 9)
        #expect(short.stderr.contains("the earlier items' judges cost \(RunLogText.usd(judge))"), "\(short.stderr)")
        #expect(short.stderr.contains("1 of the 2 earlier items not scored"), "\(short.stderr)")
        #expect(short.stderr.contains("continue the eval with: pipe eval --resume \(id)"))

        // Resumed without a limit, the scoreboard shows the pipeline's and the judges' costs apart.
        let resumed = try await runPipe(["eval", "--resume", String(id), "--format", "json", "--quiet"], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = try JSONParser.parse(resumed.stdout)
        #expect(abs((after["pipeline"]?["cost_usd"]?.numberValue?.doubleValue ?? 0) - 10 * pipeline) < 1e-6)
        #expect(abs((after["judges"]?["cost_usd"]?.numberValue?.doubleValue ?? 0) - 10 * judge) < 1e-6)
    }
}
