extension RunLogText {
    /// The batches as `pipe logs` lists them after the runs.
    public func batches(_ batches: [BatchInfo]) -> String {
        var table: [[String]] = [["batch", "spec", "started", "items", "succeeded", "failed", "invalid", "pending"]]
        for batch in batches {
            let counts = batch.counts
            table.append([
                batch.id, spec(batch.specPath), time(batch.createdAt), String(counts.total), String(counts.succeeded),
                String(counts.failed), String(counts.invalidInput), String(counts.pending + counts.running),
            ])
        }
        return RunSummary.table(table, numericColumns: [3, 4, 5, 6, 7])
    }

    /// `pipe batch status`: the batch, its spec and how many items are in each state.
    public func status(_ batch: BatchInfo) -> String {
        RunSummary.table(
            [
                ["batch", batch.id],
                ["spec", "\(spec(batch.specPath)) (\(batch.pipelineName))"],
                ["started", time(batch.createdAt)],
                ["items", "\(batch.counts.total)" + (batch.sealed ? "" : " (the input was not read to its end)")],
                ["status", Self.counts(batch.counts)],
            ], numericColumns: [])
    }

    /// `290 succeeded, 5 failed, 5 invalid input, 0 running, 0 pending`.
    public static func counts(_ counts: BatchCounts) -> String {
        "\(counts.succeeded) succeeded, \(counts.failed) failed, \(counts.invalidInput) invalid input, "
            + "\(counts.running) running, \(counts.pending) pending"
    }

    /// Dollars as the run summary shows them.
    public static func usd(_ value: Double) -> String {
        RunSummary.usd(value)
    }
}
