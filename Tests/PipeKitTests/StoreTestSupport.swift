import Foundation
@testable import PipeKit

/// Records for journal tests.
enum StoreSamples {
    static let model = ResolvedModel(
        name: "fast", provider: .anthropic, model: "claude-test", baseURL: nil, apiKeyEnv: nil, price: nil)

    static func newRun(spec: String = "/specs/report.yaml", input: JSONValue = ["topic": "tides"], resumedFrom: String? = nil)
        -> NewRun
    {
        NewRun(
            specPath: spec, specHash: SHA256.hex("spec"), pipelineName: "report", input: input,
            traceID: String(repeating: "ab", count: 16), resumedFrom: resumedFrom)
    }

    static func request(_ prompt: String = "Summarize tides", stage: String = "summary") -> ModelRequest {
        ModelRequest(
            model: model, system: "Be brief.", messages: [ChatMessage(.user, prompt)],
            outputSchema: ["type": "object", "required": ["text"]], stageName: stage, maxTokens: 200, temperature: 0.2,
            timeout: .seconds(5))
    }

    static func call(
        stage: String = "summary", status: CallRecord.Status = .ok, reply: String? = #"{"text": "moon"}"#,
        key: String = "key-1", problems: [String] = [], request: ModelRequest? = nil
    ) -> CallRecord {
        CallRecord(
            stage: stage, attempt: 1, model: model, request: request ?? self.request(stage: stage), reply: reply,
            status: status, problems: problems, usage: TokenUsage(input: 12, output: 7), costUSD: 0.0021,
            latency: .milliseconds(345), cacheKey: key)
    }

    static func stage(
        _ name: String = "summary", status: StageReport.Status = .succeeded, output: JSONValue? = ["text": "moon"],
        fingerprint: String? = "fp-1", error: String? = nil
    ) -> StageRecord {
        StageRecord(
            report: StageReport(
                unit: RunUnitID(stage: name), status: status, model: model, attempts: 2, usage: TokenUsage(input: 24, output: 14),
                costUSD: 0.0042, latency: .milliseconds(900), error: error),
            output: output, fingerprint: fingerprint)
    }
}

/// Runs `pipe-bench` (built beside `pipe`) and waits for it on a thread of its own.
func runPipeBench(_ arguments: [String]) async throws -> CommandResult {
    try await onOwnThread {
        let process = Process()
        process.executableURL = Paths.pipeExecutable.deletingLastPathComponent().appendingPathComponent("pipe-bench")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.runUnblocked()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }
}
