import Foundation

/// A run's life in a run store, the same for `pipe run`, `pipe approve` and each item of
/// `pipe batch`: a recorded run is found to resume (and held), the new run is started (recorded
/// as `running`, held, approvals carried over) with its journal, the runner runs with that
/// journal, and the run is finished (every record flushed, its end recorded, both runs let
/// go). No global state: one value per opened store, used by any number of runs at once.
/// Progress, traces, the summary and exit codes are the caller's.
public struct RunLifecycle: Sendable {
    /// Nil: nothing is recorded (`--no-store`), nothing can be resumed.
    public let store: (any RunStorage)?
    /// Whether each run started is held for this process until it finishes (`RunLeases`).
    /// False when something else holds the runs already: `pipe batch`'s items, under the
    /// batch's lease and each item's claim.
    public let holdsRuns: Bool

    public init(store: (any RunStorage)?, holdsRuns: Bool = true) {
        self.store = store
        self.holdsRuns = holdsRuns
    }

    /// The spec's digest and path as the last run recorded them: a batch starts thousands of
    /// runs of one spec, and hashes it once.
    private let lastSpec = Locked<(bytes: [UInt8], path: String, digest: SpecDigest, absolute: String)?>(nil)

    private func specDigestAndPath(_ pipeline: CompiledPipeline, _ specPath: String) -> (digest: SpecDigest, path: String) {
        let bytes = pipeline.source.bytes
        if let last = lastSpec.withLock({ $0 }), last.path == specPath, last.bytes == bytes { return (last.digest, last.absolute) }
        let digest = SpecDigest(text: String(decoding: bytes, as: UTF8.self))
        let absolute = StoreFile.isCanonical(specPath) ? specPath : URL(fileURLWithPath: specPath).path
        lastSpec.withLock { $0 = (bytes, specPath, digest, absolute) }
        return (digest, absolute)
    }

    /// A recorded run to continue. This process holds it until the run that continues it
    /// finishes, or `letGo`.
    public struct Resumption: Sendable {
        public var id: String
        public var detail: RunDetail
        /// The stages approved for it: carried over, so nobody is asked twice.
        public var approved: Set<String>
        /// The run's recorded input, which the run that continues it reads.
        public var input: JSONValue { detail.input }
    }

    /// A run waiting for approval, held by this process.
    public struct WaitingRun: Sendable {
        public var id: String
        public var detail: RunDetail
        /// The stages it waits for.
        public var stages: [String]
        /// Where it is recorded.
        let store: any RunStorage
    }

    /// A run being recorded.
    public struct Run: Sendable {
        public var id: String
        /// What the runner records through; nil when the run is not recorded.
        public var journal: (any DurableJournal)?
        /// The run it continues, held until it finishes.
        public var resumedFrom: String?
        /// How its input and output are recorded (`record:`).
        public var record = RecordPolicy.full
        public var isRecorded: Bool { journal != nil }
    }

    /// What could not be recorded about a run that ended; its outcome stands.
    public struct RecordingGaps: Sendable {
        /// Why some of its calls and stages are missing (the first failure).
        public var records: StoreError?
        /// Why its end is missing.
        public var end: StoreError?
    }

    // MARK: - Finding a run to continue

    /// The run `reference` names (`last`, an id or a unique prefix; `last` among the runs of
    /// `specPath`, when given), held by this process, to resume.
    public func resume(_ reference: String, specPath: String?) async throws(RunLookupError) -> Resumption {
        let (store, detail) = try await held(reference, specPath: specPath)
        do {
            return Resumption(id: detail.row.id, detail: detail, approved: try await store.approvedStages(runID: detail.row.id))
        } catch {
            await store.release(detail.row.id)
            throw .store(error)
        }
    }

    /// The run `reference` names, held by this process, if it waits for approval.
    public func waiting(_ reference: String) async throws(RunLookupError) -> WaitingRun {
        let (store, detail) = try await held(reference, specPath: nil)
        let id = detail.row.id
        guard detail.row.status == .waitingForApproval else {
            await store.release(id)
            throw .notWaiting(id: id, status: detail.row.status)
        }
        do {
            return WaitingRun(id: id, detail: detail, stages: try await store.waitingStages(runID: id), store: store)
        } catch {
            await store.release(id)
            throw .store(error)
        }
    }

    /// Records the approval of `stages` of a waiting run; returns the run to continue, still held.
    public func approve(_ run: WaitingRun, stages: [String]) async throws(StoreError) -> Resumption {
        for stage in stages {
            try await run.store.recordApproval(runID: run.id, stage: stage, decision: .approved, reason: nil)
        }
        let approved = (try? await run.store.approvedStages(runID: run.id)) ?? Set(stages)
        return Resumption(id: run.id, detail: run.detail, approved: approved)
    }

    /// Records the rejection of `stages` of a waiting run, which ends it, and lets go of it.
    public func reject(_ run: WaitingRun, stages: [String], reason: String) async throws(StoreError) {
        try await run.store.reject(runID: run.id, stages: stages, reason: reason)
        await run.store.release(run.id)
    }

    /// Lets go of a run found to continue that is not continued after all.
    public func letGo(_ id: String) async {
        await store?.release(id)
    }

    /// The run `reference` names, held, with everything recorded about it.
    private func held(_ reference: String, specPath: String?) async throws(RunLookupError) -> (any RunStorage, RunDetail) {
        guard let store else { throw .notFound(reference) }
        let id: String?
        do {
            id = try await store.resolveRunID(reference, specPath: specPath)
        } catch {
            throw .store(error)
        }
        guard let id else { throw .notFound(reference) }
        // Held from here: a run still going in another process is not run twice.
        do {
            try await store.hold(id)
        } catch {
            throw .store(error)
        }
        let detail: RunDetail?
        do {
            detail = try await store.run(id)
        } catch {
            await store.release(id)
            throw .store(error)
        }
        guard let detail else {
            await store.release(id)
            throw .notFound(reference)
        }
        return (store, detail)
    }

    // MARK: - Recording a run

    /// How a run's start is written: `RunCatalog.startRun`, or a batch item's run with its
    /// item (`WorkQueue.startRun(_:for:)`, one write for both). Returns the run's id.
    public typealias StartWrite = @Sendable (NewRun) async throws(StoreError) -> String
    /// How a run's end is written: `RunCatalog.finishRun`, or with a batch item's end
    /// (`WorkQueue.finish(_:result:runEnd:)`, one write for both).
    public typealias EndWrite = @Sendable (RunEnd) async throws(StoreError) -> Void

    /// Records a new run of `pipeline` as started, held by this process until `finish`,
    /// continuing `resuming` (whose approvals it carries over) if given; written by `write`
    /// when given (in the run store).
    public func start(
        specPath: String, pipeline: CompiledPipeline, input: JSONValue, traceID: String, resuming: Resumption? = nil,
        write: StartWrite? = nil
    ) async throws(StoreError) -> Run {
        guard let store else { return Run(id: RunID.make(), journal: nil) }
        // Made out of line: a batch item's task keeps the largest stack it ever had while its
        // run waits (BENCHMARKS.md, memory per waiting item), so this frame is kept small.
        let run = newRun(specPath: specPath, pipeline: pipeline, input: input, traceID: traceID, resuming: resuming?.id)
        let id = if let write { try await write(run) } else { try await store.startRun(run) }
        if let resuming, !resuming.approved.isEmpty { try await carry(resuming.approved, to: id, in: store) }
        return Run(
            id: id, journal: store.journal(runID: id, reusingFrom: resuming?.id), resumedFrom: resuming?.id, record: pipeline.record)
    }

    @inline(never)
    private func newRun(specPath: String, pipeline: CompiledPipeline, input: JSONValue, traceID: String, resuming: String?) -> NewRun {
        let spec = specDigestAndPath(pipeline, specPath)
        return NewRun(
            specPath: spec.path, specDigest: spec.digest,
            pipelineName: pipeline.name, input: pipeline.record.input(input), traceID: traceID, resumedFrom: resuming,
            held: holdsRuns)
    }

    /// Records the approvals a resumed run carries over to the run `id` (let go of when they cannot be).
    @inline(never)
    private func carry(_ approved: Set<String>, to id: String, in store: any RunStorage) async throws(StoreError) {
        do {
            for stage in approved.sorted() {
                try await store.recordApproval(runID: id, stage: stage, decision: .approved, reason: nil)
            }
        } catch {
            await store.release(id)
            throw error
        }
    }

    /// Ends a run: records its end (written by `write` when given; in the run store), behind
    /// its records (a store writes in order: they are committed with it or before), waits for
    /// them, and lets go of it and of the run it continued. Call it however the run ended
    /// (interrupted too), before anything is printed.
    public func finish(_ run: Run, _ result: PipelineRunner.Result, write: EndWrite? = nil) async -> RecordingGaps {
        var gaps = RecordingGaps()
        guard let store, let journal = run.journal else { return gaps }
        do {
            let end = run.record.end(RunEnd(result))
            if let write {
                try await write(end)
                // What `finishRun` lets go of after writing.
                await store.release(run.id)
            } else {
                try await store.finishRun(run.id, end)
            }
        } catch {
            gaps.end = error
        }
        gaps.records = await journal.flush()
        if let resumed = run.resumedFrom { await store.release(resumed) }
        return gaps
    }

    /// One whole run, as `pipe batch` runs an item: started, run by `runner` with the run's
    /// journal, finished.
    public func perform(
        _ runner: PipelineRunner, specPath: String, input: JSONValue, traceID: String, resuming: Resumption? = nil,
        events: @escaping @Sendable (RunEvent) -> Void = { _ in }
    ) async throws(StoreError) -> (run: Run, result: PipelineRunner.Result, gaps: RecordingGaps) {
        let run = try await start(
            specPath: specPath, pipeline: runner.pipeline, input: input, traceID: traceID, resuming: resuming)
        let result = await runner.with(journal: run.journal).run(input: input, events: events)
        return (run, result, await finish(run, result))
    }
}

/// Why a run named on the command line cannot be continued.
public enum RunLookupError: Error, Sendable {
    /// No run matches the reference (`last`, an id, a prefix).
    case notFound(String)
    /// The run does not wait for approval.
    case notWaiting(id: String, status: RunStatus)
    case store(StoreError)
}
