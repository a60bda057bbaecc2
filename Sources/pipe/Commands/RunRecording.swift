import Foundation
import PipeKit

/// The run store as `pipe run` and `pipe approve` speak of it: the run's lifecycle
/// (`RunLifecycle`, in PipeKit) with its failures turned into messages and exit codes. A store
/// that cannot be opened or written (checked as it opens, `RunStore.warmUp`) stops the command
/// before anything is called (exit 2) unless `--no-store` is given; one that fails later,
/// its queued start included, costs only the record, with a warning.
struct RunRecording {
    let lifecycle: RunLifecycle
    /// The spec's absolute path, as the store records it, when `opening` made it: the first
    /// `URL` of a process costs the Swift runtime about 0.7M instructions of first lookups,
    /// which are better spent while the spec compiles than before the run's first call.
    var absoluteSpec: (given: String, path: String)?

    /// Where the store is for commands that name a run: --store, else PIPE_STORE, else
    /// beside --spec, else in the current folder.
    static func path(store: String?, spec: String?) -> String {
        if let store { return store }
        if let variable = ProcessInfo.processInfo.environment["PIPE_STORE"], !variable.isEmpty { return variable }
        return RunStore.defaultPath(forSpec: spec ?? "-")
    }

    /// The store at `path` being opened (created if missing) and made ready to record a run, on
    /// a thread of its own from now on, or why it cannot be; none for `--no-store` (nil).
    /// Nothing is printed: `opened` says it, when the command needs the store.
    static func opening(_ path: String?, spec: String) -> Eventually<Result<RunRecording, StoreError>> {
        guard let path else { return .ready(.success(RunRecording(lifecycle: RunLifecycle(store: nil)))) }
        // The spec's absolute path made on the opening thread too, once the store is open.
        return RunStores.opening(path, create: true, recording: true).map { opened in
            opened.map { RunRecording(lifecycle: RunLifecycle(store: $0), absoluteSpec: (spec, URL(fileURLWithPath: spec).path)) }
        }
    }

    /// The store `opening` opened; exit 2, saying why, when it cannot be used.
    static func opened(_ opening: Eventually<Result<RunRecording, StoreError>>) async throws -> RunRecording {
        do {
            return try await opening.value.get()
        } catch {
            throw try unusable(error)
        }
    }

    /// Says why the store cannot be used, and the ways around it; the command exits 2.
    private static func unusable(_ error: StoreError) throws(WriteError) -> ExitCodeError {
        try Terminal.writeError("pipe: \(error)\npipe: nothing was run; run without a record with --no-store, or name another store with --store PATH\n")
        return ExitCodeError(code: 2)
    }

    /// The run `--resume` names, held by this process; exit 2 when there is none, or another
    /// process holds it.
    func resume(_ text: String, spec: String) async throws -> RunLifecycle.Resumption {
        do {
            return try await lifecycle.resume(text, specPath: absolute(spec))
        } catch {
            switch error {
            case .notFound, .notWaiting:
                try Terminal.writeError(
                    "pipe: no run `\(text)` in \(lifecycle.store?.location ?? "") for \(spec); `pipe logs` lists the runs\n")
            case .store(let error):
                try Terminal.writeError("pipe: \(error)\n")
            }
            throw ExitCodeError(code: 2)
        }
    }

    func start(spec: String, pipeline: CompiledPipeline, input: JSONValue, traceID: String, resuming: RunLifecycle.Resumption?)
        async throws -> RunLifecycle.Run
    {
        do {
            return try await lifecycle.start(
                specPath: absolute(spec), pipeline: pipeline, input: input, traceID: traceID, resuming: resuming)
        } catch {
            throw try Self.unusable(error)
        }
    }

    private func absolute(_ spec: String) -> String {
        absoluteSpec.flatMap { $0.given == spec ? $0.path : nil } ?? URL(fileURLWithPath: spec).path
    }

    /// Records the run's end, then says what could not be recorded. A store that failed
    /// during the run is reported whatever `--quiet` says; the exit code stays the run's.
    func finish(_ run: RunLifecycle.Run, _ result: PipelineRunner.Result) async throws(WriteError) {
        let gaps = await lifecycle.finish(run, result)
        if let error = gaps.records {
            try Terminal.writeError("pipe: warning: some calls of run \(run.id) are not recorded: \(error)\n")
        }
        if let error = gaps.end {
            try Terminal.writeError("pipe: warning: the end of run \(run.id) is not recorded: \(error)\n")
        }
    }
}
