import Foundation
import Testing
@testable import PipeKit

/// The report's critical path over constructed times: units recorded to the millisecond can
/// end together, and a start (an end less a latency, both rounded) can seem earlier than it was.
@Suite struct TimelineTests {
    /// A stage row of `unit` that ended `end` seconds after the run's start and took `latency`.
    static func row(_ unit: String, end: Double, latency: Double, origin: Date) -> StageRow {
        StageRow(
            stage: unit, status: .succeeded, provider: "anthropic", modelName: "fast", model: "claude-haiku-4-5", attempts: 1,
            usage: .zero, costUSD: nil, latency: .milliseconds(Int(latency * 1000)), output: nil, fingerprint: nil, reused: false,
            error: nil, finishedAt: origin.addingTimeInterval(end))
    }

    static func critical(_ rows: [(String, Double, Double)]) throws -> Set<String> {
        let pipeline = try DeclaredOutput.compile(Paths.pipelines.appendingPathComponent("writer-critic-loop.yaml"))
        let origin = Date(timeIntervalSince1970: 1_800_000_000)
        let detail = RunDetail(
            row: RunRow(
                id: "r", specPath: "writer-critic-loop.yaml", pipelineName: "writer-critic-loop", status: .succeeded, startedAt: origin,
                duration: .seconds(2), usage: .zero, costUSD: nil, error: nil, resumedFrom: nil, holder: nil),
            specHash: "", traceID: "", input: .string("brief"), output: nil,
            stages: rows.map { row($0.0, end: $0.1, latency: $0.2, origin: origin) }, calls: [])
        let timeline = Timeline(RunReportData(detail: detail, pipeline: pipeline, dagNote: nil))
        return Set(timeline.units.filter(\.critical).map(\.id))
    }

    /// The promoter and the last critic ended in the same millisecond (as under `--mock`), and
    /// the promoter's rounded start lies before the critic's: the path still ends at the promoter, which read
    /// the loop, and runs back through every iteration.
    @Test func unitsThatEndTogetherEndThePathAtTheOneNoneOfThemWaitedFor() throws {
        let rows = [
            ("writer@1", 0.300, 0.300), ("critic@1", 0.600, 0.300), ("writer@2", 0.900, 0.300), ("critic@2", 1.200, 0.001),
            ("promoter", 1.200, 0.002),
        ]
        #expect(try Self.critical(rows) == ["writer@1", "critic@1", "writer@2", "critic@2", "promoter"])
    }
}
