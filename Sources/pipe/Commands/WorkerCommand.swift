import ArgumentParser
import Foundation
import PipeKit

/// `pipe worker --queue URL`: claims the items of the open batches in PostgreSQL and runs
/// them, until stopped (or, with --exit-when-idle, until no item is left).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Work on the batches queued in PostgreSQL: claim items, run them, record their runs.",
        discussion: """
            Start any number of workers, on any number of machines, against the database that \
            `pipe batch --queue URL` (or `--no-work`) submitted batches to. Each worker claims \
            items of the open batches, oldest batch first (only --batch's with --batch), runs \
            up to --concurrency at once and records every run, stage and call in the database. \
            A worker compiles the spec and schema files the batch row carries: it never reads \
            the spec file. API keys come from the worker's own environment; none is stored.

            A claimed item has a lease (--lease-seconds, 60 by default) that the worker renews \
            every third of it while the item's calls are in flight, however long a call takes. \
            An item whose worker was killed (kill -9, a machine lost) is claimed again once its \
            lease lapses, and its run resumes: stages that finished are reused, not paid again. \
            A worker that finds an item of its own taken over (it could not renew in time) \
            cancels that item's run and calls, and does not finish it. \
            A model's rate_limit is divided by the live workers (those holding leases), counted \
            again every few seconds.

            OpenTelemetry: the variables of `pipe help run` (OTEL_EXPORTER_OTLP_ENDPOINT, \
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, \
            OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, \
            OTEL_SDK_DISABLED, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, TRACEPARENT) \
            export each item the worker runs as a trace of its own, as `pipe batch` does: its \
            root span carries pipe.batch.id and pipe.batch.item, and its trace id is the one the \
            item's run has in the database (`pipe logs RUN --queue URL --json`); with \
            TRACEPARENT, every item's run is a child of the caller's span. The last spans are \
            sent when the worker exits.

            A batch submitted with --provider-batch sends its model calls through the \
            providers' batch APIs in every worker: each worker hands its requests to the \
            database, and for each model one worker at a time (the holder of a PostgreSQL \
            advisory lock on the batch and model) submits every worker's requests as one \
            provider batch, polls it and writes the results back; another worker takes over \
            (and re-attaches to the batches in flight, never submitting them again) if it dies. \
            Such a batch's items are not claimed ahead, and --concurrency defaults to 10000 for it.

            Ctrl-C or SIGTERM gives the items in flight back (exit 130, 143). Without \
            --exit-when-idle a worker waits for new batches; with it, it exits 0 once no item of \
            the batches (or of --batch) is pending or running and every batch is fully queued.

            Hashed records: the items' runs keep their prompts and outputs as hashes as the \
            batch's spec (`record:`) or this worker's --record-prompts/--record-outputs say; the \
            flags of the `pipe batch` that queued the batch do not reach the workers.

            Exit status: 0 idle with --exit-when-idle, 2 usage or database error, 130 \
            interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP.

            Examples:
              pipe worker --queue postgres://pipe@db.internal:5432/pipe --concurrency 50
              PIPE_QUEUE=postgres://pipe@/pipe?host=/run/postgresql pipe worker --exit-when-idle
              pipe worker --queue postgres://pipe@127.0.0.1:5432/pipe --batch b20261202-1515
            """)

    @Option(name: .long, help: ArgumentHelp(
        "The PostgreSQL database (default: PIPE_QUEUE).", valueName: "postgres://USER@HOST:PORT/DB"))
    var queue: String?

    @Option(name: .long, help: "How many items run at once; their model calls share this bound (default 8; 10000 for a batch submitted with --provider-batch).")
    var concurrency: Int?

    @Flag(name: .long, help: "Exit (0) once no item is pending or running, instead of waiting for more.")
    var exitWhenIdle = false

    @Option(name: .long, help: ArgumentHelp("Work on this batch only (an id, a unique prefix, or `last`).", valueName: "batch-id"))
    var batch: String?

    @Option(name: .long, help: "How long a claim holds an item unrenewed, in seconds (renewed every third of it).")
    var leaseSeconds = 60

    @Flag(name: .long, help: "Replace every model by the offline mock provider: no key, no network, no cost.")
    var mock = false

    @OptionGroup var recording: RecordOptions

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if leaseSeconds < 3 { throw ValidationError("--lease-seconds must be at least 3") }
        if BatchQueue.url(queue) == nil {
            throw ValidationError("give the database: --queue postgres://USER@HOST:PORT/DB (or PIPE_QUEUE)")
        }
    }

    func run() async throws {
        let backend = try await BatchQueue.open(
            url: BatchQueue.url(queue), storePath: "", connections: min(8, 2 + (concurrency ?? 8) / 8))
        guard case .postgres(let database, _) = backend else { return }
        var chosen: String?
        if let batch { chosen = try await BatchSession.find(batch, in: backend).id }
        let name = RunHolder.hostName() + " " + BatchSession.workerName()
        try Terminal.writeError("pipe: worker \(name) on \(backend.location)\n")
        var settings = BatchSession.Settings(
            mock: mock, quiet: true, concurrency: concurrency ?? 8, maxCostUSD: nil, output: nil)
        settings.defaultConcurrency = concurrency == nil
        settings.record = try recording.choice()
        let lease = Duration.seconds(leaseSeconds)
        let telemetry = RunTelemetry.fromEnvironment(ProcessInfo.processInfo.environment)
        for warning in telemetry.warnings { try Terminal.writeError(warning + "\n") }
        let (exitWhenIdle, only, settingsGiven) = (exitWhenIdle, chosen, settings)
        let (outcome, signal) = await Interrupt.run { () async -> Result<Void, WorkerFailure> in
            await withTaskGroup(of: Void.self) { group in
                // The rate limits divided by the workers holding leases, counted again and again.
                group.addTask {
                    repeat {
                        if let live = try? await database.liveWorkers() { RateLimits.shared.share(among: max(1, live)) }
                    } while (try? await Task.sleep(for: min(lease / 3, .seconds(5)))) != nil
                }
                let result = await Self.work(
                    backend: backend, only: only, settings: settingsGiven, lease: lease, worker: name,
                    exitWhenIdle: exitWhenIdle, telemetry: telemetry)
                group.cancelAll()
                return result
            }
        }
        await RunSession.finish(telemetry)
        switch outcome {
        case .success:
            if let signal { throw ExitCodeError(code: 128 + signal) }
        case .failure(.store(let error)):
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        case .failure(.exit(let code)):
            throw ExitCodeError(code: code)
        }
    }

    enum WorkerFailure: Error {
        case store(StoreError)
        /// The batch's spec did not compile (said on stderr).
        case exit(Int32)
    }

    /// Claims and runs items until cancelled, or idle with `exitWhenIdle`.
    static func work(
        backend: BatchQueue, only: String?, settings: BatchSession.Settings, lease: Duration, worker: String,
        exitWhenIdle: Bool, telemetry: RunTelemetry = .disabled
    ) async -> Result<Void, WorkerFailure> {
        var sessions: [String: (session: BatchSession, runner: PipelineRunner, settings: BatchSession.Settings)] = [:]
        var idle = IdleWait()
        while !Task.isCancelled {
            let batches: [BatchInfo]
            do throws(StoreError) {
                batches = try await open(backend.queue, only: only)
            } catch {
                return .failure(.store(error))
            }
            for info in batches where info.counts.pending + info.counts.running > 0 {
                if sessions[info.id] == nil {
                    do {
                        let session = BatchSession(
                            id: info.id, spec: info.specPath, pipeline: try BatchSpec.compile(info), backend: backend,
                            lifecycle: backend.lifecycle, results: nil, progress: nil)
                        // The batch's own choice of provider batches, recorded when it was submitted.
                        let chosen = try await session.providerBatchChoice(settings)
                        sessions[info.id] = (session, try session.makeRunner(chosen), chosen)
                    } catch {
                        return .failure(.exit((error as? ExitCodeError)?.code ?? 2))
                    }
                }
                guard let (session, runner, chosen) = sessions[info.id] else { continue }
                switch await session.drain(
                    runner: runner, concurrency: chosen.concurrency, maxCostUSD: nil, lease: lease, worker: worker,
                    telemetry: telemetry, claimsAhead: !chosen.providerBatch)
                {
                case .success(.interrupted): return .success(())
                case .success(.drained), .success(.costLimit): break
                case .failure(let error): return .failure(.store(error))
                }
                if Task.isCancelled { return .success(()) }
            }
            // The drains may have ended a batch's last items: look again at once, so that the
            // worker that ended them exits without first waiting.
            if exitWhenIdle {
                if batches.isEmpty { return .success(()) }
                if let now = try? await open(backend.queue, only: only), now.isEmpty { return .success(()) }
            }
            // Items other workers hold end there, or come back when their leases lapse: look
            // again, soon while a batch was open (within a second, as before, when none was).
            if (try? await Task.sleep(for: idle.wait(othersRunning: !batches.isEmpty))) == nil { break }
        }
        return .success(())
    }

    /// The batches with an item left (or more to come), oldest first; only `only` if given.
    static func open(_ queue: any WorkQueue, only: String?) async throws(StoreError) -> [BatchInfo] {
        guard let only else { return try await queue.openBatches(limit: 1000).reversed() }
        return (try await queue.batch(only).map { [$0] } ?? []).filter(\.isOpen)
    }
}
