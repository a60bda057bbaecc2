import ArgumentParser
import Foundation
import PipeKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of a run, a batch or an eval.",
        discussion: """
            Everything comes from the run store `pipe run` and `pipe batch` record into, and the \
            page is one file with its CSS and SVG inline and no script: it loads nothing from the \
            network, so it opens from disk or as a CI artifact.

            For a run: its summary (status, tokens, cost, the slowest stage, the critical path, \
            the error); the DAG drawn by pipe (stages with their models, loops with their bound \
            and iterations, fan-outs with their item count, skipped and not-run stages grey, the \
            failed stage red); a timeline with one row per stage run and one bar per attempt \
            (retries, invalid replies, fallbacks and cache hits coloured, waits as gaps, the \
            critical path marked ★, each tool call a named bar under its stage run, red when it \
            failed); and every stage with its model, tokens, cost, latency and \
            attempts, each attempt's rendered prompt, reply and validation errors, its tool calls \
            and its output, folded in <details>. The DAG comes from the spec file the run was \
            started from when it still has the same text (the store keeps its path and hash); \
            otherwise the recorded stages are drawn without edges, and the page says why.

            For a batch: counts by status, histograms of the items' latencies and costs, the \
            slowest and most expensive items, the failures with their errors and a table of the \
            items. The page stays small for any batch: at most 1,000 items and 200 failures are \
            listed, and it says so; `pipe report RUN` shows any item's run.

            Everything recorded (names, prompts, replies, errors) is escaped: a reply holding \
            `<script>` shows as text.

            RUN_OR_BATCH is a run id, a batch id, an eval id (`pipe eval`: its scoreboard, failed \
            evaluations, then its batch), a unique prefix of one, or `last`: the newest run, or the \
            newest batch (or eval) when the newest run is one of its items or the batch is newer. \
            The store is found as `pipe logs` finds it: --store PATH, else PIPE_STORE, else \
            `.pipe/pipe.db` beside --spec, else in the current folder; --queue URL (or PIPE_QUEUE) \
            reads PostgreSQL.

            Examples:
              pipe report last -o report.html        # the newest run or batch
              pipe report 20261121-0615 > run.html   # a run, by a unique id prefix, to stdout
              pipe report last --spec pipelines/research-report.yaml -o research.html
              pipe report b-20261121 --queue postgres://pipe@127.0.0.1:5432/pipe -o batch.html

            Exit status: 0; 2 when the store does not exist, the id is unknown or ambiguous, or \
            the options are wrong; 74 when the report cannot be written, 141 when stdout's reader \
            has gone.
            """
    )

    @Argument(help: ArgumentHelp("A run id, a batch id, an eval id, a unique prefix of one, or `last`.", valueName: "run-or-batch"))
    var reference: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the HTML to this file (default: standard output).", valueName: "file"))
    var output: String?

    @OptionGroup var location: CatalogLocation

    func run() async throws {
        let catalog = try await location.open()
        let page: ReportPage
        do {
            page = try await find(in: catalog)
        } catch let error as StoreError {
            throw try CatalogLocation.failure(error.description)
        }
        let html = page.render()
        guard let output else {
            try Terminal.write(html)
            return
        }
        let file = try OutputFile(creating: output, name: "the report \(output)")
        try file.write(html)
        try file.close()
        try Terminal.writeError("pipe: wrote the report of \(page.title) to \(output)\n")
    }

    /// The run or batch `reference` names, read into its page.
    private func find(in catalog: any RunCatalog) async throws -> ReportPage {
        let queue = BatchQueue.reading(catalog)
        let runID = try await catalog.resolveRunID(reference, specPath: location.spec)
        let batch = location.spec == nil ? try await queue?.batch(reference) : nil
        // An eval id (`e...`), or `last` when the newest batch is an eval's.
        if location.spec == nil, let store = catalog as? RunStore, let queue {
            let records = SQLiteEvalRecords(store: store)
            if let eval = try await records.eval(reference), reference != "last" || batch?.id == eval.batchID,
                let evalBatch = try await queue.batch(eval.batchID)
            {
                let data = try await BatchReportData.load(evalBatch, queue: queue, catalog: catalog)
                return EvalReportPage.page(eval, results: try await records.results(of: eval.id), batch: data)
            }
        }
        if let batch, let queue, try await prefersBatch(batch, over: runID, in: catalog) {
            return BatchReport.page(try await BatchReportData.load(batch, queue: queue, catalog: catalog))
        }
        guard let runID, let detail = try await catalog.run(runID) else {
            let what = reference == "last" ? "no runs or batches recorded" + (location.spec.map { " for \($0)" } ?? "")
                : "no run or batch `\(reference)`"
            throw try CatalogLocation.failure("\(what) in \(location.path); `pipe logs` lists them")
        }
        return RunReport.page(RunReportData.load(detail))
    }

    /// An id names a run before a batch; `last` names the batch when it is newer than the newest
    /// run or that run is one of its items.
    private func prefersBatch(_ batch: BatchInfo, over runID: String?, in catalog: any RunCatalog) async throws -> Bool {
        guard let runID else { return true }
        guard reference == "last", let newest = try await catalog.runs(limit: 1, specPath: nil).first else { return false }
        if batch.createdAt > newest.startedAt { return true }
        return try await catalog.runs(inBatch: batch.id).contains { $0.id == runID }
    }
}
