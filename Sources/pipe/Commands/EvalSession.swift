import Foundation
import PipeKit
import Synchronization

/// One `pipe eval`: the test file, spec and dataset read and checked, the items run as a batch
/// (`BatchSession`), every item scored (`EvalScorer`), the results recorded (`EvalRecords`),
/// the scoreboard written and the pass rates turned into the exit status.
struct EvalSession {
    struct Settings {
        var mock: Bool
        var quiet: Bool
        var concurrency: Int
        var maxCostUSD: Double?
        var format: EvalCommand.Format
        var output: String?
        var compare: String?
        /// `--replay FILE`: the pipeline's and the judges' calls answered from a cassette.
        var replay: ReplayProvider? = nil
        /// `--record FILE`: the pipeline's and the judges' exchanges written to a cassette.
        var recorder: CassetteRecorder? = nil
        /// `--record-prompts`/`--record-outputs` over the spec's `record:`.
        var record = RecordChoice()
    }

    /// What an eval measures, read and checked.
    struct Inputs {
        var specPath: String
        var testsPath: String
        var datasetPath: String
        var pipeline: CompiledPipeline
        var file: EvalFile
        var items: [EvalItem]
        var datasetHash: String
        var judges: [String: CompiledPipeline]
    }

    // MARK: - Starting and resuming

    static func start(spec: String?, tests: String?, dataset: String, store: String?, settings: Settings) async throws {
        let testsPath = tests ?? spec.map(defaultTests) ?? ""
        let file = try readTests(testsPath)
        let specPath: String
        if let spec {
            specPath = spec
        } else if let written = file.spec {
            specPath = relative(written.value, to: testsPath)
        } else {
            try Terminal.writeError("pipe: \(testsPath) has no `spec:`; name the spec: pipe eval SPEC --tests \(testsPath)\n")
            throw ExitCodeError(code: 2)
        }
        let inputs = try prepare(specPath: specPath, testsPath: testsPath, file: file, datasetPath: dataset)
        let (backend, records) = try await open(store: store, spec: specPath)
        let earlier = try await comparison(settings.compare, records: records)
        let batchInput = try writeInputs(inputs.items)
        defer { unlink(batchInput) }
        let session = try await BatchSession.submitting(
            spec: specPath, pipeline: inputs.pipeline, input: batchInput, format: .jsonl, backend: backend,
            quiet: settings.quiet, output: nil, writeResults: false, firstChunk: settings.concurrency)
        let id = EvalID.make()
        let text = String(decoding: inputs.pipeline.source.bytes, as: UTF8.self)
        try await BatchSession.orExit { () async throws(StoreError) in
            try await records.create(
                EvalRecord(
                    id: id, specPath: specPath, specHash: BatchSpec.hash(text, files: inputs.pipeline.schemaFiles),
                    testsPath: testsPath, datasetPath: dataset, datasetHash: inputs.datasetHash, batchID: session.id))
        }
        try Terminal.writeError("pipe: eval \(id)\n")
        try await finish(id: id, session: session, inputs: inputs, records: records, earlier: earlier, settings: settings)
    }

    static func resume(_ reference: String, store: String?, settings: Settings) async throws {
        let (backend, records) = try await open(store: store, spec: nil)
        guard let record = try await BatchSession.orExit({ () async throws(StoreError) in try await records.eval(reference) }) else {
            try Terminal.writeError("pipe: no eval `\(reference)` in \(backend.location); `pipe logs` lists the evals\n")
            throw ExitCodeError(code: 2)
        }
        let file = try readTests(record.testsPath)
        let inputs = try prepare(specPath: record.specPath, testsPath: record.testsPath, file: file, datasetPath: record.datasetPath)
        guard inputs.datasetHash == record.datasetHash else {
            try Terminal.writeError("pipe: \(record.datasetPath) changed since eval \(record.id) started; start a new eval\n")
            throw ExitCodeError(code: 2)
        }
        let earlier = try await comparison(settings.compare, records: records)
        let session = try await BatchSession.resuming(record.batchID, backend: backend, quiet: settings.quiet, output: nil, writeResults: false)
        try Terminal.writeError("pipe: eval \(record.id)\n")
        try await finish(id: record.id, session: session, inputs: inputs, records: records, earlier: earlier, settings: settings)
    }

    // MARK: - Running and scoring

    static func finish(
        id: String, session: BatchSession, inputs: Inputs, records: any EvalRecords, earlier: (String, [EvalRecord.Result])?,
        settings: Settings
    ) async throws {
        // Each item is scored as it ends, in its slot: `--max-cost-usd` counts the judges' calls
        // with the pipeline's, and no item starts once both together reach it.
        let scorer = try makeScorer(inputs, settings: settings)
        let scored = ScoredItems()
        let items = Dictionary(inputs.items.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        var batch = BatchSession.Settings(
            mock: settings.mock, quiet: settings.quiet, concurrency: settings.concurrency, maxCostUSD: settings.maxCostUSD,
            output: nil, replay: settings.replay, recorder: settings.recorder, record: settings.record)
        batch.afterItem = .init(
            run: { run in
                guard let item = items[run.index] else { return }
                scored.add(item.index, await scorer.score(item, output: run.output, failure: run.error ?? run.status.rawValue))
            },
            spentUSD: { scored.costUSD })
        do {
            try await session.work(settings: batch)
        } catch let error as ExitCodeError where error.code == 1 {
            // Items that failed in the pipeline: they fail every evaluator below.
        } catch let error as ExitCodeError {
            if error.code == 4 || error.code >= 128 { try Terminal.writeError("pipe: continue the eval with: pipe eval --resume \(id)\n") }
            throw error
        }
        var runs: [ItemResult] = []
        try await BatchSession.eachResult(of: session.id, in: session.backend) { runs.append(contentsOf: $0) }
        let byItem = Dictionary(runs.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        // Items that ended before a resume were not scored by this process: they are scored
        // now, their judges counted against `--max-cost-usd` as the batch counts the others'.
        let judgedInBatch = scored.costUSD
        let unscored = inputs.items.filter { [earlier = scored.all] in earlier[$0.index] == nil }
        let (spent, limit) = (session.spent, settings.maxCostUSD ?? .infinity)
        // The items' calls and every judge's, as the batch's limit counts them.
        let inAll = { spent.withLock { $0 } + scored.costUSD }
        await score(unscored, runs: byItem, scorer: scorer, concurrency: settings.concurrency, into: scored) { inAll() >= limit }
        let all = scored.all
        let left = unscored.filter { all[$0.index] == nil }.count
        if left > 0 {
            try Terminal.writeError(
                "pipe: stopped: the earlier items' judges cost \(RunLogText.usd(scored.costUSD - judgedInBatch)) (\(RunLogText.usd(inAll())) in all),"
                    + " --max-cost-usd \(limit): \(left) of the \(unscored.count) earlier items not scored\n"
                    + "pipe: continue the eval with: pipe eval --resume \(id)\n")
            throw ExitCodeError(code: 4)
        }
        let scores = inputs.items.flatMap { all[$0.index] ?? [] }
        let board = EvalScoreboard(id: id, file: inputs.file, items: inputs.items, runs: runs, scores: scores)
        let lines = Dictionary(inputs.items.map { ($0.index, $0.line) }, uniquingKeysWith: { a, _ in a })
        let results = scores.map {
            EvalRecord.Result(
                item: $0.item, line: lines[$0.item] ?? $0.item + 1, evaluator: $0.evaluator, pass: $0.pass, score: $0.score,
                reason: $0.reason, runID: byItem[$0.item]?.runID)
        }
        let summary = board.json(dataset: inputs.datasetPath)
        try await BatchSession.orExit { () async throws(StoreError) in
            try await records.record(results, eval: id)
            try await records.finish(id, summary: summary)
        }
        let comparison = earlier.map { EvalComparison(previous: $0.0, earlier: $0.1, now: results) }
        let text: String
        switch settings.format {
        case .text: text = board.text(dataset: inputs.datasetPath) + (comparison?.text(dataset: inputs.datasetPath) ?? "")
        case .json:
            var object = summary.objectValue ?? JSONObject()
            if let comparison { object["compare"] = comparison.json }
            text = JSONValue.object(object).serialized() + "\n"
        case .junit: text = board.junit(dataset: inputs.datasetPath)
        }
        let out = try BatchSession.resultFile(settings.output)
        try out.write(text)
        try out.close()
        let unmet = board.unmet
        guard unmet.isEmpty else {
            let names = unmet.map { "\($0.name) \(EvalScoreboard.percent($0.passRate)) < \(EvalScoreboard.percent($0.minPassRate ?? 0))" }
            try Terminal.writeError("pipe: eval \(id): min_pass_rate not met: \(names.joined(separator: ", "))\n")
            throw ExitCodeError(code: 1)
        }
        if !settings.quiet { try Terminal.writeError("pipe: eval \(id): every min_pass_rate met\n") }
    }

    /// Scores the items into `scored`, up to `concurrency` at once; once `reached` (the
    /// budget), an item with an output (its judges to call) is left out.
    static func score(
        _ items: [EvalItem], runs: [Int: ItemResult], scorer: EvalScorer, concurrency: Int, into scored: ScoredItems,
        reached: () -> Bool
    ) async {
        await withTaskGroup(of: (Int, [EvalScore]).self) { group in
            var next = items.makeIterator()
            func add() {
                while let item = next.next() {
                    let run = runs[item.index]
                    // An item without an output fails its evaluators without calling a judge.
                    if run?.output != nil, reached() { continue }
                    let failure = run.map { $0.error ?? $0.status.rawValue } ?? "the item did not run"
                    group.addTask { (item.index, await scorer.score(item, output: run?.output, failure: failure)) }
                    return
                }
            }
            for _ in 0..<concurrency { add() }
            while let (index, scores) = await group.next() {
                scored.add(index, scores)
                add()
            }
        }
    }

    static func makeScorer(_ inputs: Inputs, settings: Settings) throws -> EvalScorer {
        var runners: [String: PipelineRunner] = [:]
        let calls = CallLimiter(limit: settings.concurrency)
        // The judges read the pipeline's outputs: their exchanges are recorded as its `record:` says.
        let policy = settings.record.policy(over: inputs.pipeline.record)
        for (name, judge) in inputs.judges {
            let factory = ProviderFactory(
                environment: ProcessInfo.processInfo.environment, forceMock: settings.mock,
                mockReplies: Dictionary(uniqueKeysWithValues: judge.stages.map { ($0.name, $0.mockReplies) }))
            var options = PipelineRunner.Options(concurrency: 1, journal: nil, approval: ApprovalPolicy())
            options.calls = calls
            do {
                let (replay, recorder) = (settings.replay, settings.recorder)
                runners[name] = try PipelineRunner(pipeline: judge, options: options) { model throws(ProviderError) in
                    try Cassettes.provider(replay: replay, recorder: recorder, policy: policy) { () throws(ProviderError) in try factory.provider(for: model) }
                }
            } catch {
                try Terminal.writeError("pipe: the judge `\(name)`'s schema cannot be compiled: \(error)\n")
                throw ExitCodeError(code: 2)
            }
        }
        return EvalScorer(evaluators: inputs.file.evaluators, judges: runners)
    }

    // MARK: - Reading and checking

    /// `dir/NAME.yaml` → `dir/NAME.test.yaml`.
    static func defaultTests(_ spec: String) -> String {
        let url = URL(fileURLWithPath: spec)
        let base = url.deletingPathExtension().lastPathComponent
        let directory = (spec as NSString).deletingLastPathComponent
        return (directory.isEmpty ? "" : directory + "/") + base + ".test.yaml"
    }

    /// A path written in the test file, from the test file's directory.
    static func relative(_ path: String, to file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : directory + "/" + path
    }

    /// A file's bytes, at most `limit`; exit 2 saying what it is for when it cannot be read.
    static func readOrExit(_ path: String, limit: Int, what: String) throws -> SourceFile {
        do {
            return SourceFile(path: path, bytes: try BoundedRead.file(path, limit: limit))
        } catch {
            try Terminal.writeError("pipe: cannot read \(what) \(path): \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }

    static func readTests(_ path: String) throws -> EvalFile {
        let source = try readOrExit(path, limit: ReadLimits.spec, what: "the test file (name it with --tests FILE)")
        let (file, diagnostics) = EvalFileDecoder.decode(source)
        try report(diagnostics, in: source)
        guard let file else { throw ExitCodeError(code: 2) }
        return file
    }

    /// Diagnostics on stderr; exit 2 when one is an error.
    static func report(_ diagnostics: [Diagnostic], in source: SourceFile) throws {
        guard !diagnostics.isEmpty else { return }
        try TextFormat(color: Terminal.isColorEnabled(fileDescriptor: 2))
            .write([LintedFile(source: source, diagnostics: diagnostics)], to: Terminal.writeError)
        if diagnostics.contains(where: { $0.severity == .error }) { throw ExitCodeError(code: 2) }
    }

    static func prepare(specPath: String, testsPath: String, file: EvalFile, datasetPath: String) throws -> Inputs {
        let pipeline = try SpecFile.compileOrExit(specPath, quiet: true)
        var sink = DiagnosticSink()
        let root = YAMLLoader().load(pipeline.source, diagnostics: &sink)
        try report(EvalLint.check(file, pipeline: pipeline, models: EvalLint.modelNames(root)), in: file.source)
        var judges: [String: CompiledPipeline] = [:]
        let directory = (testsPath as NSString).deletingLastPathComponent
        for evaluator in file.evaluators {
            guard case .judge(let judge) = evaluator.kind, let root else { continue }
            let result = JudgePipeline.compile(
                judge, name: evaluator.name.value, specRoot: root, testFile: testsPath, directory: directory.isEmpty ? "." : directory)
            guard let compiled = result.pipeline else {
                let source = SourceFile(path: "\(testsPath) (judge \(evaluator.name.value))",
                    bytes: Array(JudgePipeline.specText(judge, name: evaluator.name.value, specRoot: root).utf8))
                try Terminal.writeError("pipe: the judge `\(evaluator.name.value)` (\(file.source.path):\(evaluator.name.span.start)) does not compile as a stage:\n")
                try report(result.diagnostics, in: source)
                throw ExitCodeError(code: 2)
            }
            judges[evaluator.name.value] = compiled
        }
        let source = try readOrExit(datasetPath, limit: ReadLimits.document, what: "the dataset")
        let bytes = source.bytes
        switch EvalDataset.read(source) {
        case .success(let items):
            return Inputs(
                specPath: specPath, testsPath: testsPath, datasetPath: datasetPath, pipeline: pipeline, file: file, items: items,
                datasetHash: SHA256.hex(String(decoding: bytes, as: UTF8.self)), judges: judges)
        case .failure(let problems):
            try report(problems.diagnostics, in: source)
            throw ExitCodeError(code: 2)
        }
    }

    /// The items' inputs as a `pipe batch` input file: each item's input on its dataset line
    /// (the others blank), so that the batch's items and lines are the dataset's.
    static func writeInputs(_ items: [EvalItem]) throws -> String {
        let path = NSTemporaryDirectory() + "pipe-eval-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        var text = ""
        var line = 1
        for item in items {
            text += String(repeating: "\n", count: max(0, item.line - line)) + item.input.serialized() + "\n"
            line = item.line + 1
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            try Terminal.writeError("pipe: cannot write the items' inputs to \(path)\n")
            throw ExitCodeError(code: 2)
        }
        return path
    }

    static func open(store: String?, spec: String?) async throws -> (BatchQueue, any EvalRecords) {
        let backend = try await BatchQueue.open(url: nil, storePath: RunRecording.path(store: store, spec: spec), connections: 2)
        guard case .embedded(let queue) = backend else { throw ExitCodeError(code: 2) }
        return (backend, SQLiteEvalRecords(store: queue.store))
    }

    /// The earlier eval `--compare` names, with its results (exit 2 when there is none).
    static func comparison(_ reference: String?, records: any EvalRecords) async throws -> (String, [EvalRecord.Result])? {
        guard let reference else { return nil }
        let found = try await BatchSession.orExit { () async throws(StoreError) -> (String, [EvalRecord.Result])? in
            guard let record = try await records.eval(reference) else { return nil }
            return (record.id, try await records.results(of: record.id))
        }
        guard let found else {
            try Terminal.writeError("pipe: no eval `\(reference)` to compare with; `pipe logs` lists the evals\n")
            throw ExitCodeError(code: 2)
        }
        return found
    }
}

/// The scores of the items scored as they ended, and what their judges cost.
final class ScoredItems: Sendable {
    private let state = Mutex<(scores: [Int: [EvalScore]], costUSD: Double)>(([:], 0))

    func add(_ item: Int, _ scores: [EvalScore]) {
        state.withLock { $0.scores[item] = scores; $0.costUSD += scores.reduce(0) { $0 + $1.costUSD } }
    }

    var all: [Int: [EvalScore]] { state.withLock { $0.scores } }

    var costUSD: Double { state.withLock { $0.costUSD } }
}
