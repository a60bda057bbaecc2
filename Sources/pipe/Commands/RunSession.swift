import Foundation
import PipeKit

/// One execution of a compiled pipeline, as `pipe run` and `pipe approve` do it: providers,
/// the trace, progress, the summary, the output and the exit code around the run's
/// lifecycle in the store (`RunRecording`, `RunLifecycle`).
struct RunSession {
    struct Settings {
        var mock: Bool
        var json: Bool
        var quiet: Bool
        var concurrency: Int
        var cache: Bool
        var trace: String?
        /// `--record FILE`: every model exchange written to a cassette.
        var recorder: CassetteRecorder? = nil
        /// `--replay FILE`: every model answered from a cassette; nothing is called.
        var replay: ReplayProvider? = nil
        /// `--given STAGE=FILE`: the values of the stages a `--stage` run does not run.
        var given: [String: JSONValue] = [:]
        /// `--strict-errors` (or `PIPE_STRICT_ERRORS=1`): a run that some stage's `on_error`
        /// degraded is exit 1, its output not printed.
        var strictErrors = StrictErrors.fromEnvironment
    }

    let spec: String
    let pipeline: CompiledPipeline
    let settings: Settings

    /// A run whose stages use tools needs their servers' `${VAR}`s set and a client to
    /// start them: else exit 2 before anything is called.
    static func checkTools(
        _ pipeline: CompiledPipeline, environment: [String: String], factory: PipelineRunner.ToolServersFactory?
    ) throws {
        guard pipeline.usesTools else { return }
        do throws(ToolSetupError) {
            _ = try pipeline.toolServerConfigs(environment: environment)
            if factory == nil { throw .unavailable }
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    /// What a run needs before its first call, made and checked (keys, output schemas) before
    /// the run store is needed: `pipe run` opens the store meanwhile.
    struct Prepared {
        let runner: PipelineRunner
        let progress: ProgressReporter?
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "    | " + $0 }.joined(separator: "\n") + "\n"
    }

    func execute(
        input value: JSONValue, resuming: RunLifecycle.Resumption?, approval: ApprovalPolicy, recording: RunRecording
    ) async throws {
        try await execute(prepare(approval: approval), recording: recording, input: value, resuming: resuming)
    }

    /// The providers (a missing key exits 2), progress and the runner.
    func prepare(approval: ApprovalPolicy) throws -> Prepared {
        let pipeline = settings.mock ? self.pipeline.mocked() : self.pipeline
        let environment = ProcessInfo.processInfo.environment
        let toolServers = Cassettes.toolServers(replay: settings.replay, recorder: settings.recorder, policy: pipeline.record)
        try Self.checkTools(pipeline, environment: environment, factory: toolServers)
        let factory = ProviderFactory(
            environment: environment, forceMock: settings.mock,
            mockReplies: pipeline.mockReplies)
        if settings.replay == nil { try checkProviders(pipeline, factory) }
        let liveProgress = !settings.quiet && Terminal.isTerminal(2)
        let progress = settings.quiet ? nil : ProgressReporter(
            stages: pipeline.stages.map(\.name), mode: liveProgress ? .live : .plain, output: OutputFile.standardError.write)
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
            let callsAPIs = !settings.mock && settings.replay == nil && pipeline.stages.contains { stage in
                stage.models.contains { $0.provider.api != nil }
            }
            var options = PipelineRunner.Options(
                concurrency: settings.concurrency, journal: nil, cacheEverything: settings.cache, approval: approval,
                executor: callsAPIs ? factory.client.executor : nil)
            options.mockCommands = settings.mock
            options.liveProgress = liveProgress
            options.toolServers = toolServers
            options.environment = environment
            options.given = settings.given
            let (replay, recorder, policy) = (settings.replay, settings.recorder, pipeline.record)
            runner = try PipelineRunner(pipeline: pipeline, options: options) { model throws(ProviderError) in
                try Cassettes.provider(replay: replay, recorder: recorder, policy: policy) { () throws(ProviderError) in try factory.provider(for: model) }
            }
        } catch {
            try Terminal.writeError("pipe: an output schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        return Prepared(runner: runner, progress: progress)
    }

    /// Creates the trace file, records the run's start, runs it, records its end and reports it.
    func execute(
        _ prepared: Prepared, recording: RunRecording, input value: JSONValue, resuming: RunLifecycle.Resumption?
    ) async throws {
        let (runner, progress) = (prepared.runner, prepared.progress)
        // A trace file that cannot be created is found before the run starts.
        let traceFile: OutputFile?
        do {
            traceFile = try settings.trace.map { path throws(WriteError) in try OutputFile(creating: path, name: "the trace file \(path)") }
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        // TRACEPARENT's trace, if given: the store, the trace file and the exported spans share it.
        let telemetry = RunTelemetry.fromEnvironment(ProcessInfo.processInfo.environment)
        for warning in telemetry.warnings { try Terminal.writeError(warning + "\n") }
        let traceID = telemetry.traceID()
        let run = try await recording.start(spec: spec, pipeline: pipeline, input: value, traceID: traceID, resuming: resuming)
        let tracer = traceFile.map { TraceWriter(output: $0, runID: run.id, traceID: traceID, parentSpan: telemetry.parent?.spanID) }
        tracer?.runStarted(pipeline: pipeline.name, stages: pipeline.stages.count)
        let spans = telemetry.tracer(runID: run.id, traceID: traceID, pipeline: pipeline.name)
        let (result, signal) = await Interrupt.run {
            async let display: Void = progress?.run() ?? ()
            let result = await runner.with(journal: run.journal).run(input: value) { event in
                progress?.record(event)
                tracer?.record(event)
                spans?.record(event)
            }
            spans?.finish(result)
            progress?.finish()
            await display
            return result
        }
        // The run is recorded whatever is written after it; a write that fails says so.
        let status: Int32
        do throws(WriteError) {
            try await recording.finish(run, result)
            try tracer?.runEnded(status: result.outcome.status, wall: result.wall, usage: result.usage, costUSD: result.costUSD)
            if let failure = progress?.failure { throw failure }
            status = try report(result, run: run, signal: signal)
        } catch {
            await Self.finish(telemetry)
            throw RunOutputFailure(
                failure: error, note: run.isRecorded ? "pipe: run \(run.id) is recorded; `pipe logs \(run.id)` shows its stages and output" : nil)
        }
        await Self.finish(telemetry)
        if status != 0 { throw ExitCodeError(code: status) }
    }

    /// The last spans sent (the flush deadline at most), and one warning if some were lost.
    static func finish(_ telemetry: RunTelemetry) async {
        if let warning = await telemetry.finish() { try? Terminal.writeError(warning + "\n") }
    }

    /// The summary, the output, and what the outcome needs said; returns the exit status.
    private func report(_ result: PipelineRunner.Result, run: RunLifecycle.Run, signal: Int32?) throws(WriteError) -> Int32 {
        if !settings.quiet {
            try Terminal.writeError(RunSummary.render(result, order: pipeline.stages.map(\.name)))
            for line in CircuitBreakers.shared.summary() { try Terminal.writeError("pipe: \(line)\n") }
        }
        let resumeHint = run.isRecorded ? "pipe: run \(run.id); continue it with: pipe run \(spec) --resume \(run.id)\n" : ""
        switch result.outcome {
        case .succeeded(let output):
            let degraded = result.degraded
            for stage in degraded {
                try Terminal.writeError("pipe: stage `\(stage.stage)` \(stage.status.display) (on_error): \(stage.error ?? "")\n")
            }
            if settings.strictErrors, !degraded.isEmpty {
                try Terminal.writeError(
                    "pipe: --strict-errors: the output is partial (\(degraded.count) stage\(degraded.count == 1 ? "" : "s") degraded), so it is not printed\n")
                try Terminal.writeError(resumeHint)
                return 1
            }
            if case .string(let text) = output, !settings.json {
                try Terminal.write(text + "\n")
            } else {
                try Terminal.write(output.serialized(pretty: true) + "\n")
            }
            return 0
        case .stageFailed(let stage, let attempts, let error):
            try Terminal.writeError("pipe: stage `\(stage)` failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(error)\n")
            try Terminal.writeError(resumeHint)
            return 1
        case .budgetExceeded(let stage, let reason):
            try Terminal.writeError("pipe: stopped\(stage.map { " before stage `\($0)` called its model" } ?? ""): \(reason)\n")
            try Terminal.writeError(resumeHint)
            return 4
        case .interrupted:
            let finished = result.stages.filter { $0.status == .succeeded }.map(\.stage)
            let signal = signal ?? SIGINT
            try Terminal.writeError(
                "pipe: interrupted\(signal == SIGINT ? "" : " by " + Interrupt.name(signal)); finished stages: "
                    + (finished.isEmpty ? "none" : finished.joined(separator: ", ")) + "\n")
            try Terminal.writeError(resumeHint)
            return 128 + signal
        case .waitingForApproval(let pending):
            for stage in pending {
                try Terminal.writeError("\npipe: stage `\(stage.stage)` waits for approval. It would receive:\n")
                if let system = stage.system { try Terminal.writeError(Self.indent("system: " + system)) }
                try Terminal.writeError(Self.indent(stage.prompt))
            }
            if run.isRecorded {
                try Terminal.writeError("""
                    pipe: run \(run.id) is waiting; the finished stages are kept.
                      approve: pipe approve \(run.id)
                      reject:  pipe reject \(run.id) --reason "..."

                    """)
            } else {
                try Terminal.writeError("pipe: this run is not recorded, so it cannot be approved later; use --approve-all\n")
            }
            return PipeExit.waitingForApproval
        }
    }

    /// A missing API key is found before any stage calls anything.
    private func checkProviders(_ pipeline: CompiledPipeline, _ factory: ProviderFactory) throws {
        var problems: [String] = []
        // Each model is tried once, however many stages use it (500 stages, one model).
        var failures: [ResolvedModel: ProviderError?] = [:]
        // The previous stage's model and how it went: most stages call the same model as the
        // one before, found by comparing it rather than hashing it (1,400 instructions a look-up).
        var previous: (model: ResolvedModel, failure: ProviderError?)?
        // By index, reading fields in place: a `for` loop copied each `CompiledStage` (about
        // 1,000 instructions each).
        for index in pipeline.stages.indices {
            guard let model = pipeline.stages[index].models.first else { continue }
            let failure: ProviderError?
            if let previous, previous.model == model {
                failure = previous.failure
            } else if let known = failures[model] {
                failure = known
            } else {
                do throws(ProviderError) {
                    _ = try factory.provider(for: model)
                    failure = nil
                } catch {
                    failure = error
                }
                failures[model] = failure
            }
            previous = (model, failure)
            if let error = failure {
                let line = "stage `\(pipeline.stages[index].name)`, model `\(model.name)`: \(error)"
                if !problems.contains(line) { problems.append(line) }
            }
        }
        guard !problems.isEmpty else { return }
        for problem in problems { try Terminal.writeError("pipe: \(problem)\n") }
        try Terminal.writeError("pipe: nothing was called; set the key, or try the pipeline offline with --mock\n")
        throw ExitCodeError(code: 2)
    }
}

/// `--strict-errors` and `PIPE_STRICT_ERRORS`: scripts that must not accept a partial result.
enum StrictErrors {
    /// `PIPE_STRICT_ERRORS=1` (or `true`) in the environment.
    static var fromEnvironment: Bool {
        ["1", "true"].contains(ProcessInfo.processInfo.environment["PIPE_STRICT_ERRORS"]?.lowercased() ?? "")
    }
}
