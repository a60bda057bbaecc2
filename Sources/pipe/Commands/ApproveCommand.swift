import ArgumentParser
import Foundation
import PipeKit

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve the stages a run waits for, and continue the run.",
        discussion: """
            A stage with `approve: true` stops `pipe run` before it calls its model (exit 5), \
            with what the stage would receive. `pipe approve RUN_ID` approves the waiting \
            stages (or only --stage) and continues the run from the store: the finished stages \
            are reused, not called again. Its output and exit status are those of `pipe run`. \
            A run that another process is continuing or rejecting is refused (exit 2, naming it).

            Examples:
              pipe approve 20261121-061502-3f9a
              pipe approve last --stage publish --store .pipe/pipe.db
            """
    )

    @Argument(help: "The waiting run: an id from `pipe logs`, or `last`.")
    var runID: String

    @Option(name: .long, help: "Approve only this stage (default: every stage the run waits for).")
    var stage: String?

    @OptionGroup var location: StoreLocation

    @Flag(name: .long, help: "Replace every model by the offline mock provider.")
    var mock = false

    @Flag(name: .long, help: "Print the output as JSON, also when it is a string.")
    var json = false

    @Flag(name: .long, help: "Print nothing on stderr but errors.")
    var quiet = false

    func run() async throws {
        let found = try await WaitingRun.find(runID, store: location.store, spec: location.spec)
        let stages = try found.select(stage)
        if HashedText.isHashed(found.run.detail.input) {
            await found.lifecycle.letGo(found.run.id)
            try Terminal.writeError("pipe: run \(found.run.id) recorded its input as its hash (record.prompts: hash): continue it with "
                + "`pipe run \(found.run.detail.row.specPath) --resume \(found.run.id) --approve-all --input FILE`, giving the same input\n")
            throw ExitCodeError(code: 2)
        }
        let resumption: RunLifecycle.Resumption
        do {
            resumption = try await found.lifecycle.approve(found.run, stages: stages)
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        let pipeline = try SpecFile.compileOrExit(found.run.detail.row.specPath, quiet: quiet)
        if !quiet { try Terminal.writeError("pipe: approved \(stages.map { "`\($0)`" }.joined(separator: ", ")); continuing run \(found.run.id)\n") }
        let session = RunSession(
            spec: found.run.detail.row.specPath, pipeline: pipeline,
            settings: .init(mock: mock, json: json, quiet: quiet, concurrency: 8, cache: false, trace: nil))
        try await session.execute(
            input: resumption.input, resuming: resumption,
            approval: ApprovalPolicy(approved: resumption.approved, ask: Approver.askOnTerminal()),
            recording: RunRecording(lifecycle: found.lifecycle))
    }
}

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject the stages a run waits for: the run ends, and nothing more is called.",
        discussion: """
            Records the rejection and its reason in the run store; `pipe logs RUN_ID` shows it.

            Example:
              pipe reject 20261121-061502-3f9a --reason "the refund is above the limit"
            """
    )

    @Argument(help: "The waiting run: an id from `pipe logs`, or `last`.")
    var runID: String

    @Option(name: .long, help: "Why (recorded in the store).")
    var reason: String

    @Option(name: .long, help: "Reject only this stage (default: every stage the run waits for).")
    var stage: String?

    @OptionGroup var location: StoreLocation

    func run() async throws {
        let found = try await WaitingRun.find(runID, store: location.store, spec: location.spec)
        let stages = try found.select(stage)
        do {
            try await found.lifecycle.reject(found.run, stages: stages, reason: reason)
        } catch {
            try Terminal.writeError("pipe: \(error)\n")
            throw ExitCodeError(code: 2)
        }
        try Terminal.writeError("pipe: run \(found.run.id) rejected (\(stages.map { "`\($0)`" }.joined(separator: ", "))): \(reason)\n")
    }
}

/// A run that waits for approval, found in the store and held by this process.
struct WaitingRun {
    var lifecycle: RunLifecycle
    var run: RunLifecycle.WaitingRun

    static func find(_ text: String, store path: String?, spec: String?) async throws -> WaitingRun {
        let location = RunRecording.path(store: path, spec: spec)
        func fail(_ message: String) throws(WriteError) -> ExitCodeError {
            try Terminal.writeError("pipe: \(message)\n")
            return ExitCodeError(code: 2)
        }
        let lifecycle: RunLifecycle
        do {
            lifecycle = RunLifecycle(store: try await RunStores.open(location, create: false))
        } catch .missing {
            throw try fail("no run store at \(location); name it with --store or --spec")
        } catch {
            throw try fail(error.description)
        }
        do {
            return WaitingRun(lifecycle: lifecycle, run: try await lifecycle.waiting(text))
        } catch {
            switch error {
            case .notFound: throw try fail("no run `\(text)` in \(location); `pipe logs` lists the runs")
            case .notWaiting(let id, let status): throw try fail("run \(id) is not waiting for approval (it is \(status.rawValue))")
            case .store(let error): throw try fail(error.description)
            }
        }
    }

    /// The stages to decide on: one named stage, or all that wait.
    func select(_ stage: String?) throws -> [String] {
        guard let stage else { return run.stages }
        guard run.stages.contains(stage) else {
            try Terminal.writeError("pipe: run \(run.id) does not wait for stage `\(stage)`; it waits for \(run.stages.joined(separator: ", "))\n")
            throw ExitCodeError(code: 2)
        }
        return [stage]
    }
}

/// Where the run store is, for the commands that name a run.
struct StoreLocation: ParsableArguments {
    @Option(name: .long, help: "The run store (default: PIPE_STORE, or .pipe/pipe.db beside --spec or here).")
    var store: String?

    @Option(name: .long, help: "Find the store beside this spec.")
    var spec: String?
}
