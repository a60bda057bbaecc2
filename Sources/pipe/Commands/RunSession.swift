import Foundation
import PipeKit

/// One execution of a compiled pipeline, as `pipe run` and `pipe approve` do it: providers,
/// the run store, the trace, progress, the summary, the output and the exit code.
struct RunSession {
    struct Settings {
        var mock: Bool
        var json: Bool
        var quiet: Bool
        var concurrency: Int
        var cache: Bool
        var trace: String?
    }

    let spec: String
    let pipeline: CompiledPipeline
    let recording: RunRecording
    let settings: Settings

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "    | " + $0 }.joined(separator: "\n") + "\n"
    }

    func execute(input value: JSONValue, resumedFrom: String?, approval: ApprovalPolicy) async throws {
        let factory = ProviderFactory(
            environment: ProcessInfo.processInfo.environment, forceMock: settings.mock,
            mockReplies: Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.mockReplies) }))
        try checkProviders(pipeline, factory)
        let progress = settings.quiet ? nil : ProgressReporter(
            stages: pipeline.stages.map(\.name), mode: Terminal.isTerminal(2) ? .live : .plain, output: Terminal.writeError)
        var approval = approval
        if let ask = approval.ask, let progress {
            // The live table stands still while a person answers.
            approval.ask = { pending in
                progress.pause()
                defer { progress.resume() }
                return await ask(pending)
            }
        }
        let runner: PipelineRunner
        do {
            // Stages run on the HTTP client's thread, unless nothing calls a real API (a
            // `--mock` run never starts libcurl).
            let callsAPIs = !settings.mock && pipeline.stages.contains { stage in
                ([stage.model] + stage.fallbacks).contains { $0.provider.api != nil }
            }
            let options = PipelineRunner.Options(
                concurrency: settings.concurrency, journal: nil, cacheEverything: settings.cache, approval: approval,
                executor: callsAPIs ? factory.client.executor : nil)
            runner = try PipelineRunner(pipeline: pipeline, options: options) {
                model throws(ProviderError) in try factory.provider(for: model)
            }
        } catch {
            Terminal.writeError("pipe: an output schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        let traceID = TraceIDs.traceID()
        let run = recording.start(
            spec: spec, pipeline: pipeline, input: value, traceID: traceID, resumedFrom: resumedFrom, approved: approval.approved)
        let tracer: TraceWriter?
        do {
            tracer = try settings.trace.map { try TraceWriter(path: $0, runID: run.id, traceID: traceID) }
        } catch {
            Terminal.writeError("pipe: cannot write the trace file \(settings.trace ?? ""): \(error.localizedDescription)\n")
            throw ExitCodeError(code: 2)
        }
        tracer?.runStarted(pipeline: pipeline.name, stages: pipeline.stages.count)
        let result = await Interrupt.run {
            async let display: Void = progress?.run() ?? ()
            let result = await runner.with(journal: run.journal).run(input: value) { event in
                progress?.record(event)
                tracer?.record(event)
            }
            progress?.finish()
            await display
            return result
        }
        tracer?.runEnded(status: result.outcome.status, wall: result.wall, usage: result.usage, costUSD: result.costUSD)
        recording.finish(run, result)
        if !settings.quiet { Terminal.writeError(RunSummary.render(result, order: pipeline.stages.map(\.name))) }
        let resumeHint = run.recorded ? "pipe: run \(run.id); continue it with: pipe run \(spec) --resume \(run.id)\n" : ""
        switch result.outcome {
        case .succeeded(let output):
            if case .string(let text) = output, !settings.json {
                Terminal.write(text + "\n")
            } else {
                Terminal.write(output.serialized(pretty: true) + "\n")
            }
        case .stageFailed(let stage, let attempts, let error):
            Terminal.writeError("pipe: stage `\(stage)` failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(error)\n")
            Terminal.writeError(resumeHint)
            throw ExitCodeError(code: 1)
        case .budgetExceeded(let stage, let reason):
            Terminal.writeError("pipe: stopped\(stage.map { " before stage `\($0)` called its model" } ?? ""): \(reason)\n")
            Terminal.writeError(resumeHint)
            throw ExitCodeError(code: 4)
        case .interrupted:
            let finished = result.stages.filter { $0.status == .succeeded }.map(\.stage)
            Terminal.writeError("pipe: interrupted; finished stages: \(finished.isEmpty ? "none" : finished.joined(separator: ", "))\n")
            Terminal.writeError(resumeHint)
            throw ExitCodeError(code: 130)
        case .waitingForApproval(let pending):
            for stage in pending {
                Terminal.writeError("\npipe: stage `\(stage.stage)` waits for approval. It would receive:\n")
                if let system = stage.system { Terminal.writeError(Self.indent("system: " + system)) }
                Terminal.writeError(Self.indent(stage.prompt))
            }
            if run.recorded {
                Terminal.writeError("""
                    pipe: run \(run.id) is waiting; the finished stages are kept.
                      approve: pipe approve \(run.id)
                      reject:  pipe reject \(run.id) --reason "..."

                    """)
            } else {
                Terminal.writeError("pipe: this run is not recorded, so it cannot be approved later; use --approve-all\n")
            }
            throw ExitCodeError(code: PipeExit.waitingForApproval)
        }
    }

    /// A missing API key is found before any stage calls anything.
    private func checkProviders(_ pipeline: CompiledPipeline, _ factory: ProviderFactory) throws {
        var problems: [String] = []
        for stage in pipeline.stages {
            do {
                _ = try factory.provider(for: stage.model)
            } catch {
                let line = "stage `\(stage.name)`, model `\(stage.model.name)`: \(error)"
                if !problems.contains(line) { problems.append(line) }
            }
        }
        guard !problems.isEmpty else { return }
        for problem in problems { Terminal.writeError("pipe: \(problem)\n") }
        Terminal.writeError("pipe: nothing was called; set the key, or try the pipeline offline with --mock\n")
        throw ExitCodeError(code: 2)
    }
}
