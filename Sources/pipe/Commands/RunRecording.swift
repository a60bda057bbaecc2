import Foundation
import PipeKit

/// `pipe run`'s use of the run store: every run and call recorded as it happens, earlier
/// runs found for `--resume`, earlier replies for `--cache`. A store that cannot be opened,
/// or cannot record the run's start, stops the command before anything is called (exit 2)
/// unless `--no-store` is given; one that fails later costs only the record, with a warning.
struct RunRecording {
    let store: RunStore?

    /// A run as recorded: its id, and the journal the runner writes to.
    struct Run {
        var id: String
        var journal: StoreJournal?
        /// The run it resumes, which this process holds until the run ends.
        var resumedFrom: String?
        var recorded: Bool { journal != nil }
    }

    /// A run to resume: its id, its input, and the stages a person approved for it.
    struct Resumed {
        var id: String
        var input: JSONValue
        var approved: Set<String>
    }

    /// Where the store is for commands that name a run: --store, else PIPE_STORE, else
    /// beside --spec, else in the current folder.
    static func path(store: String?, spec: String?) -> String {
        if let store { return store }
        if let variable = ProcessInfo.processInfo.environment["PIPE_STORE"], !variable.isEmpty { return variable }
        return RunStore.defaultPath(forSpec: spec ?? "-")
    }

    static func open(store path: String?) throws -> RunRecording {
        guard let path else { return RunRecording(store: nil) }
        do {
            return RunRecording(store: try RunStore(path: path))
        } catch {
            throw try unusable(error)
        }
    }

    /// Says why the store cannot be used, and the ways around it; the command exits 2.
    private static func unusable(_ error: StoreError) throws(WriteError) -> ExitCodeError {
        try Terminal.writeError("pipe: \(error)\npipe: nothing was run; run without a record with --no-store, or name another store with --store PATH\n")
        return ExitCodeError(code: 2)
    }

    func resolve(_ text: String, spec: String) throws -> Resumed {
        guard let store else { throw ExitCodeError(code: 2) }
        let notFound = "pipe: no run `\(text)` in \(store.path) for \(spec); `pipe logs` lists the runs\n"
        do {
            guard let id = try store.resolveRunID(text, specPath: URL(fileURLWithPath: spec).path) else {
                try Terminal.writeError(notFound)
                throw ExitCodeError(code: 2)
            }
            // Held until this run ends: a run still going in another process is not run twice.
            try store.leases.acquire(id)
            guard let detail = try store.run(id) else {
                try Terminal.writeError(notFound)
                throw ExitCodeError(code: 2)
            }
            return Resumed(id: id, input: detail.input, approved: try store.approvedStages(runID: id))
        } catch let error as StoreError {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    func start(
        spec: String, pipeline: CompiledPipeline, input: JSONValue, traceID: String, resumedFrom: String?,
        approved: Set<String> = []
    ) throws -> Run {
        guard let store else { return Run(id: RunID.make(), journal: nil) }
        let text = String(decoding: pipeline.source.bytes, as: UTF8.self)
        do {
            let id = try store.startRun(
                NewRun(
                    specPath: URL(fileURLWithPath: spec).path, specHash: SHA256.hex(text), pipelineName: pipeline.name,
                    input: input, traceID: traceID, resumedFrom: resumedFrom))
            // Approvals carry over, so a resumed run does not ask again.
            for stage in approved.sorted() { try store.recordApproval(runID: id, stage: stage, decision: .approved) }
            return Run(id: id, journal: store.journal(runID: id, reusingFrom: resumedFrom), resumedFrom: resumedFrom)
        } catch {
            throw try Self.unusable(error)
        }
    }

    /// Records the run's end, then says what could not be recorded. A store that failed
    /// during the run is reported whatever `--quiet` says; the exit code stays the run's.
    func finish(_ run: Run, _ result: PipelineRunner.Result) throws(WriteError) {
        var warnings: [String] = []
        if let error = run.journal?.firstError {
            warnings.append("pipe: warning: some calls of run \(run.id) are not recorded: \(error)\n")
        }
        do {
            try store?.finishRun(run.id, RunEnd(result))
        } catch {
            warnings.append("pipe: warning: the end of run \(run.id) is not recorded: \(error)\n")
        }
        if let resumed = run.resumedFrom { store?.leases.release(resumed) }
        for warning in warnings { try Terminal.writeError(warning) }
    }
}
