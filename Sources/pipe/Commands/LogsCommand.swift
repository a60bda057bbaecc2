import ArgumentParser
import Foundation
import PipeKit

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "List recorded runs, or show one run's stages, calls and outputs.",
        discussion: """
            `pipe run` records every run, stage and model call in a SQLite run store as they \
            happen: by default `.pipe/pipe.db` in the spec's folder. Without a run id, \
            `pipe logs` lists the recent runs, newest first: id, spec, status, start time, \
            duration, tokens in and out, and cost. With one, it shows that run's stages \
            (status, model, attempts, tokens, latency, cost), its calls and each stage's output. \
            A run whose process was killed before it could record its end shows as \
            `interrupted`.

            Batches (`pipe batch`) are listed after the runs: id, spec, start time and how many \
            items succeeded, failed, were invalid or are pending; each item's run is in the list \
            of runs.

            The store is, in order: --store PATH; else the PIPE_STORE environment variable; \
            else `.pipe/pipe.db` beside the spec given with --spec (the one `pipe run SPEC` \
            uses); else `.pipe/pipe.db` in the current folder. With --queue URL (or \
            PIPE_QUEUE), the runs and batches are read from PostgreSQL, where `pipe worker` \
            and `pipe batch --queue` record them.

            Examples:
              pipe logs                              # recent runs in ./.pipe/pipe.db
              pipe logs --spec pipelines/report.yaml # that spec's runs, from its store
              pipe logs last                         # the newest run, stage by stage
              pipe logs 20261121-0615                # a run, by a unique id prefix
              pipe logs last --stage summary         # one stage's output
              pipe logs last --json | jq '.calls[] | select(.status != "ok")'
              pipe logs --queue postgres://pipe@127.0.0.1:5432/pipe   # batches and runs in PostgreSQL

            Exit status: 0; 1 when the stage asked for with --stage has no output (it failed \
            or did not finish); 2 when the store does not exist, the run id is unknown or \
            ambiguous, the run has no such stage, or the options are wrong; 74 when stdout or \
            stderr cannot be written, 141 when stdout's reader has gone.
            """
    )

    @Argument(help: "A run id, a unique prefix of one, or `last`. Without it, the recent runs are listed.")
    var runID: String?

    @OptionGroup var location: CatalogLocation

    @Option(name: .long, help: "How many runs to list.")
    var limit: Int = 20

    @Option(name: .long, help: ArgumentHelp(
        "Print only this stage's output: a string raw, anything else as JSON.", valueName: "name"))
    var stage: String?

    @Flag(name: .long, help: "Print JSON for scripts: the list, or a run with its stages, calls, requests and replies.")
    var json = false

    func validate() throws {
        if stage != nil, runID == nil {
            throw ValidationError("--stage needs a run id (or `last`): pipe logs last --stage \(stage!)")
        }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let runStore = try await location.open()
        do {
            if let runID {
                try await show(runID, in: runStore)
            } else {
                let rows = try await runStore.runs(limit: limit, specPath: location.spec)
                if json {
                    try Terminal.write(RunLogJSON.list(rows).serialized(pretty: true) + "\n")
                } else if rows.isEmpty {
                    try Terminal.writeError("pipe: no runs recorded in \(location.path)" + (location.spec.map { " for \($0)" } ?? "") + "\n")
                } else {
                    try Terminal.write(format.list(rows))
                }
                try await listBatches(in: runStore)
                try await listEvals(in: runStore)
            }
        } catch let error as StoreError {
            throw try CatalogLocation.failure(error.description)
        }
    }

    private func show(_ text: String, in runStore: any RunCatalog) async throws {
        guard let id = try await runStore.resolveRunID(text, specPath: location.spec), let detail = try await runStore.run(id) else {
            let what = text == "last" ? "no runs recorded" + (location.spec.map { " for \($0)" } ?? "") : "no run `\(text)`"
            throw try CatalogLocation.failure("\(what) in \(location.path); `pipe logs` lists the recent runs")
        }
        guard let stage else {
            try Terminal.write(json ? RunLogJSON.detail(detail).serialized(pretty: true) + "\n" : format.detail(detail))
            return
        }
        // A stage's turns and tool calls go to stderr: stdout stays its output, for scripts.
        let toolCalls = detail.toolCalls.filter { $0.stage == stage || RunUnitID($0.stage)?.stage == stage }
        if !json, !toolCalls.isEmpty { try Terminal.writeError(RunLogText.toolCalls(toolCalls)) }
        guard let row = detail.stages.last(where: { $0.stage == stage }) else {
            let names = detail.stages.map(\.stage)
            throw try CatalogLocation.failure("run \(id) has no stage `\(stage)`"
                + (names.isEmpty ? "; none of its stages finished" : "; its stages: \(names.joined(separator: ", "))"))
        }
        guard let output = row.output else {
            let why = row.status == .cancelled ? "it was cancelled" : "it \(row.status.rawValue)"
            try Terminal.writeError("pipe: stage `\(stage)` of run \(id) has no output: \(why)"
                + (row.status == .cancelled ? "" : row.error.map { ": \($0)" } ?? "") + "\n")
            throw ExitCodeError(code: 1)
        }
        try Terminal.write(json ? output.serialized(pretty: true) + "\n" : RunLogText.show(output))
    }

    /// The recent batches (`pipe batch`), after the runs, when there are any.
    private func listBatches(in runStore: any RunCatalog) async throws {
        guard !json, location.spec == nil, let queue = BatchQueue.reading(runStore) else { return }
        let batches = try await queue.batches(limit: limit)
        guard !batches.isEmpty else { return }
        try Terminal.write("\n" + format.batches(batches))
    }

    /// The recent evals (`pipe eval`), after the batches, when there are any.
    private func listEvals(in runStore: any RunCatalog) async throws {
        guard !json, location.spec == nil, let runStore = runStore as? RunStore else { return }
        let evals = try await SQLiteEvalRecords(store: runStore).evals(limit: limit)
        guard !evals.isEmpty else { return }
        try Terminal.write("\n" + RunLogText(directory: FileManager.default.currentDirectoryPath).evals(evals))
    }

    private var format: RunLogText {
        RunLogText(directory: FileManager.default.currentDirectoryPath)
    }
}
