import Foundation

/// What `pipe report` draws for one run: everything the run store recorded about it, and the
/// compiled pipeline of its spec when the spec file still holds the text the run started with
/// (the store keeps the spec's path and SHA-256, not its text). Without it the DAG is drawn
/// from the recorded stages alone, without edges, and `dagNote` says why.
public struct RunReportData: Sendable {
    public var detail: RunDetail
    public var pipeline: CompiledPipeline?
    public var dagNote: String?

    public init(detail: RunDetail, pipeline: CompiledPipeline?, dagNote: String?) {
        self.detail = detail
        self.pipeline = pipeline
        self.dagNote = dagNote
    }

    /// The run with its spec compiled from the file it was run from, if that file is unchanged.
    public static func load(_ detail: RunDetail) -> RunReportData {
        let path = detail.row.specPath
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(path, limit: ReadLimits.spec)
        } catch {
            return RunReportData(detail: detail, pipeline: nil, dagNote: "the spec \(path) cannot be read (\(error))")
        }
        guard SHA256.hex(String(decoding: bytes, as: UTF8.self)) == detail.specHash else {
            return RunReportData(detail: detail, pipeline: nil, dagNote: "the spec \(path) changed since the run")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let result = Compiler.compile(SourceFile(path: path, bytes: bytes), directory: directory.isEmpty ? "." : directory)
        guard let pipeline = result.pipeline else {
            return RunReportData(detail: detail, pipeline: nil, dagNote: "the spec \(path) no longer compiles")
        }
        return RunReportData(detail: detail, pipeline: pipeline, dagNote: nil)
    }
}

/// What `pipe report` draws for a batch: the batch as submitted (its spec travels with it, so
/// its DAG is always drawn), every ended item's result, and how long each item's run took.
public struct BatchReportData: Sendable {
    public var info: BatchInfo
    /// Ended items, in input order.
    public var results: [ItemResult]
    /// The duration of each finished item run, by run id.
    public var durations: [String: Duration]
    public var pipeline: CompiledPipeline?

    public init(info: BatchInfo, results: [ItemResult], durations: [String: Duration], pipeline: CompiledPipeline?) {
        self.info = info
        self.results = results
        self.durations = durations
        self.pipeline = pipeline
    }

    /// Reads the batch's results page by page, and its item runs' durations.
    public static func load(
        _ info: BatchInfo, queue: any WorkQueue, catalog: any RunCatalog
    ) async throws(StoreError) -> BatchReportData {
        var results: [ItemResult] = []
        var after: Int?
        while true {
            let page = try await queue.results(batch: info.id, after: after, limit: 1000)
            results += page
            guard page.count == 1000, let last = page.last else { break }
            after = last.index
        }
        var durations: [String: Duration] = [:]
        for run in try await catalog.runs(inBatch: info.id) {
            if let duration = run.duration { durations[run.id] = duration }
        }
        let source = SourceFile(path: info.specPath, bytes: Array(info.specText.utf8))
        let pipeline = Compiler.compile(source, schemaFiles: .stored(info.schemaFiles)).pipeline
        return BatchReportData(info: info, results: results, durations: durations, pipeline: pipeline)
    }
}
