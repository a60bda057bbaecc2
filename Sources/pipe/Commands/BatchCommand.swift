import ArgumentParser
import Foundation
import PipeKit

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a pipeline over many inputs (JSON Lines or CSV), resumable, results as JSON Lines.",
        discussion: """
            Each line of a .jsonl file is one input (blank lines are skipped), each row of a .csv \
            file one object keyed by the header row (RFC 4180 quoting; every value a string); - \
            reads stdin (--format says which, JSON Lines by default). Every input is validated \
            against the spec's input schema as `pipe run` validates its input; for a text input, \
            a line that is a JSON string is that string and any other line is taken as it stands. \
            An input that is not JSON or does not match ends at once as invalid_input, its error \
            naming its line; the others run. An input may be at most 64 MiB (a longer one ends as \
            invalid_input), a batch at most 10,000,000 inputs (PIPE_BATCH_MAX_ITEMS may lower it; \
            past it, exit 2 before any item runs).

            Items start while the input is read: a regular file of more than 1,000 lines is \
            first read to its end unparsed (lines counted against the limit, a CSV's header \
            read: an unreadable, headerless or too long file still runs no item), then its first \
            --concurrency items start once queued while the rest are read, validated and queued \
            beside them, so invalid inputs' result lines come among the others'. Stdin, a pipe or \
            a FIFO, and a file of at most 1,000 lines, are read whole before any item runs. \
            Ctrl-C while the input is being read stops the reading: --resume then runs the items \
            queued by then, and says so.

            Results are JSON Lines, written as items end, to stdout or --output: \
            {"item": N, "status": "succeeded", "output": ..., "run": RUN_ID, "tokens": {...}, \
            "cost_usd": X}, or "status": "failed" with "stage" and "error", or \
            "status": "invalid_input" with "error". `item` is the input's 0-based position. \
            Each item is an ordinary run in the run store (`pipe logs RUN_ID` shows it); the \
            batch id is printed on stderr when it starts, a summary with the counts at the end; \
            on a terminal a live line shows the counts, calls per second, tokens, cost, ETA and \
            calls waiting for a model's rate limit, elsewhere one line per ended item. \
            Up to --concurrency items run at once, and all their model calls share that bound; \
            an item's slot goes to the next once its run has its answer, and the item counts as \
            ended (its result line) once its end is written to the store.

            --max-cost-usd stops starting items once the items whose runs ended cost that much \
            (the items in flight finish); the rest stay pending and --resume continues them. The spec's own \
            budget still holds per item: an item it stops is failed. Ctrl-C gives the items in \
            flight back (exit 130). --resume runs what is left: ended items are not run again, an \
            item stopped half-way reuses its finished stages, as `pipe run --resume` does.

            OpenTelemetry: the variables of `pipe help run` (OTEL_EXPORTER_OTLP_ENDPOINT, \
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, \
            OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, \
            OTEL_SDK_DISABLED, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, TRACEPARENT) \
            export each item's run as a trace of its own, its root span carrying pipe.batch.id \
            and pipe.batch.item; with TRACEPARENT, every item's run is a child of the caller's span.

            Options: `pipe help batch run` (--input, --format, --output, --concurrency, \
            --max-cost-usd, --resume, --mock, --quiet, --store, --queue, --no-work, \
            --provider-batch, --batch-fallback, --record-prompts, --record-outputs); `pipe batch \
            status`, `pipe batch results` and `pipe batch cancel` take a batch id, a unique prefix \
            of one, or `last`.

            Hashed records: with the spec's `record:`, or --record-prompts hash and \
            --record-outputs hash (PIPE_RECORD_PROMPTS, PIPE_RECORD_OUTPUTS), the items' runs keep \
            their input, prompts and outputs only as `sha256:HEX (N bytes)` in the run store, \
            traces and exports. The results (stdout or --output) are your own output and stay \
            full, and the batch's queue keeps each item's input and result, which it needs.

            Provider batches, half the price: with --provider-batch (or `batch: true` on a model \
            in the spec, for that model only) the model calls go through Anthropic's Message \
            Batches or OpenAI's Batch API instead of real time. The requests of all items that \
            reach a stage are collected (a batch is sent once no new request has come for 0.3 s) \
            into one provider batch per model, split at the provider's limits (Anthropic 100,000 \
            requests or 256 MB, OpenAI 50,000 or 200 MB); each request's custom_id names the \
            item, stage, loop iteration, for_each item and attempt (i12-classify-a1). Batches are \
            polled with backoff; a line tells when each is submitted and when it ends, and while \
            it is polled a live line on a terminal shows its state and its requests done, \
            errored and expired (elsewhere a plain line each time they change). Replies \
            are validated as in real time: an invalid one is re-asked, with its errors, in the \
            next round's batch within `retries`, then the `fallback` models. Requests a batch \
            did not answer (expired, canceled, errored with a transient error) go into the next \
            batch by default, the price staying half (up to 3 times), or are sent in real time \
            at once with --batch-fallback realtime (sooner, at the full price). Costs, the \
            spec's budget and --max-cost-usd count the batch price: the model's price.batch_input \
            and price.batch_output, else half its price; --max-cost-usd is also checked before \
            each batch is submitted. Each provider batch is recorded in the run store before it \
            is polled: after a crash or Ctrl-C, --resume re-attaches to the batches in flight and \
            collects what came meanwhile instead of paying again (a re-ask in flight included: \
            the request before it is read again from its batch); `pipe batch cancel` cancels \
            them. --concurrency defaults to 10000 with --provider-batch, so that every item \
            waits in the same batch, and items are not claimed ahead of those running.

            Provider batches on PostgreSQL: `pipe batch --queue URL --provider-batch` records \
            the choice (and --batch-fallback) with the batch, and every `pipe worker` follows it \
            (their --concurrency defaults to 10000 for it). Each worker hands its batched \
            requests to the database; for each model, exactly one worker at a time leads (it \
            holds a PostgreSQL advisory lock on the batch and model): it submits the requests \
            of every worker as that model's provider batches, records each batch before it \
            polls it, and writes each result back, and each worker's items go on from there. \
            The others keep running real-time stages. A lead killed (kill -9, a machine lost) \
            drops its lock with its connection: another worker takes the lead and re-attaches \
            to the batches in flight; none is submitted twice. `pipe batch cancel --queue URL` \
            cancels them.

            With --queue postgres://USER@HOST:PORT/DB (or PIPE_QUEUE) the batch, its items and \
            their runs go into PostgreSQL, with the spec and its schema files (no key): this \
            command works on it too, unless --no-work, and any number of `pipe worker` processes \
            can share it; its results still have a line for every item, whichever worker ran \
            it. --resume, status, results and `pipe logs` take --queue as well.

            Exit status: 0 every item succeeded, 1 some failed or were invalid, 2 invalid spec, \
            usage or store, 4 --max-cost-usd reached (items left pending), 130 interrupted \
            (Ctrl-C), 143 SIGTERM, 129 SIGHUP; 74 a result or stderr could not be written.

            Examples:
              pipe batch pipelines/support-triage.yaml --input emails.jsonl --output results.jsonl
              pipe batch --mock pipelines/support-triage.yaml --input emails.csv --concurrency 50
              cat items.jsonl | pipe batch triage.yaml --input - --max-cost-usd 5
              pipe batch --resume last
              pipe batch status last
              pipe batch results last --output results.jsonl
              pipe batch triage.yaml --input emails.jsonl --queue postgres://pipe@db:5432/pipe --no-work
              pipe batch triage.yaml --input emails.jsonl --provider-batch --output results.jsonl
              pipe batch cancel last
              pipe batch triage.yaml --input emails.jsonl --queue postgres://pipe@db:5432/pipe --no-work --provider-batch
            """,
        subcommands: [BatchRunCommand.self, BatchStatusCommand.self, BatchResultsCommand.self, BatchCancelCommand.self],
        defaultSubcommand: BatchRunCommand.self
    )
}

/// `pipe batch SPEC --input FILE` and `pipe batch --resume ID`: the default subcommand.
struct BatchRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Submit a batch and work on it, or continue one (--resume).",
        discussion: """
            Examples:
              pipe batch run pipelines/support-triage.yaml --input emails.csv   # `run` may be left out
              pipe batch pipelines/support-triage.yaml --input emails.jsonl --output results.jsonl
              pipe batch --resume last
              pipe batch run triage.yaml --input emails.jsonl --provider-batch --batch-fallback realtime
            """)

    @Argument(help: "The spec file (with --resume: only to find the run store beside it).")
    var spec: String?

    @Option(name: .long, help: ArgumentHelp("The inputs: a .jsonl or .csv file, or - for stdin.", valueName: "file"))
    var input: String?

    @Option(name: .long, help: "How to read the inputs: jsonl or csv (default: from the file's extension; jsonl for stdin).")
    var format: BatchInput.Format?

    @Option(name: .long, help: ArgumentHelp("Write the results here instead of stdout.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: "How many items run at once; their model calls share this bound (default 8; 10000 with --provider-batch).")
    var concurrency: Int?

    @Flag(name: .long, help: "Send the model calls through the providers' batch APIs: half the price, answered within 24 hours.")
    var providerBatch = false

    @Option(name: .long, help: ArgumentHelp(
        "Where a request a provider batch did not answer (expired, canceled, errored) goes: batch (the next provider batch, the default) or realtime.",
        valueName: "batch|realtime"))
    var batchFallback: ProviderBatchOptions.Fallback = .batch

    @Option(name: .long, help: ArgumentHelp(
        "Start no item once the ended items cost this much (USD); the rest stay pending (exit 4).", valueName: "usd"))
    var maxCostUSD: Double?

    @Option(name: .long, help: ArgumentHelp("Continue a batch (an id, a unique prefix, or `last`).", valueName: "batch-id"))
    var resume: String?

    @Flag(name: .long, help: "Replace every model by the offline mock provider: no key, no network, no cost.")
    var mock = false

    @Flag(name: .long, help: "Print nothing on stderr but the batch id, errors and the summary.")
    var quiet = false

    @OptionGroup var recording: RecordOptions

    @Option(name: .long, help: "The run store (default: .pipe/pipe.db beside the spec, or PIPE_STORE).")
    var store: String?

    @Option(name: .long, help: ArgumentHelp(
        "Queue the batch in PostgreSQL (default: PIPE_QUEUE); its items' runs are recorded there.",
        valueName: "postgres://USER@HOST:PORT/DB"))
    var queue: String?

    @Flag(name: .long, help: "Only enqueue the batch (with --queue): `pipe worker` processes work on it.")
    var noWork = false

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let maxCostUSD, !(maxCostUSD > 0) { throw ValidationError("--max-cost-usd must be above 0") }
        if noWork, BatchQueue.url(queue) == nil {
            throw ValidationError("--no-work leaves the batch to `pipe worker`: give --queue URL (or PIPE_QUEUE)")
        }
        if noWork, resume != nil { throw ValidationError("--no-work only submits; drop --resume") }
        if resume != nil {
            if input != nil || format != nil { throw ValidationError("--resume continues the batch's own inputs; drop --input") }
        } else {
            if spec == nil { throw ValidationError("give the spec: pipe batch SPEC --input FILE (or --resume BATCH_ID)") }
            if input == nil { throw ValidationError("give the inputs: --input FILE (.jsonl or .csv, or - for stdin)") }
        }
    }

    func run() async throws {
        let backend = try await BatchQueue.open(
            url: BatchQueue.url(queue), storePath: RunRecording.path(store: store, spec: spec), connections: 2)
        let session: BatchSession
        if let resume {
            session = try await BatchSession.resuming(resume, backend: backend, quiet: quiet, output: output)
        } else if let spec, let input {
            let pipeline = try await SpecFile.earlyCompiledOrExit(spec, quiet: quiet)
            session = try await BatchSession.submitting(
                spec: spec, pipeline: pipeline, input: input, format: format ?? (input == "-" ? .jsonl : .of(path: input)),
                backend: backend, quiet: quiet, output: output,
                firstChunk: concurrency ?? (providerBatch ? BatchSession.providerBatchConcurrency : 8))
        } else {
            return
        }
        var settings = BatchSession.Settings(
            mock: mock, quiet: quiet, concurrency: concurrency ?? (providerBatch ? BatchSession.providerBatchConcurrency : 8),
            maxCostUSD: maxCostUSD, output: output)
        settings.providerBatch = providerBatch
        settings.record = try recording.choice()
        settings.batchFallback = batchFallback
        settings.defaultConcurrency = concurrency == nil
        if noWork {
            try await session.feedAll()
            // Recorded with the batch: the workers follow it.
            if providerBatch { _ = try await session.providerBatchChoice(settings) }
            try session.results?.close()
            try Terminal.writeError("pipe: batch \(session.id) is queued; work on it with: pipe worker \(backend.option)\n")
            return
        }
        try await session.work(settings: settings)
    }
}

extension BatchInput.Format: ExpressibleByArgument {}
extension ProviderBatchOptions.Fallback: ExpressibleByArgument {}

/// `pipe batch status`: where a batch stands.
struct BatchStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many of a batch's items are pending, running, succeeded, failed or invalid.",
        discussion: """
            Examples:
              pipe batch status last
              pipe batch status b20261202-1515 --store runs.db
            """)

    @OptionGroup var location: BatchLocation

    func run() async throws {
        let (_, info) = try await location.find()
        try Terminal.write(RunLogText(directory: FileManager.default.currentDirectoryPath).status(info))
    }
}

/// `pipe batch results`: a batch's result lines, in input order.
struct BatchResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Print a batch's results as JSON Lines, in input order: one line per item that has ended.",
        discussion: """
            Examples:
              pipe batch results last
              pipe batch results last --output results.jsonl
            """)

    @OptionGroup var location: BatchLocation

    @Option(name: .long, help: ArgumentHelp("Write the results here instead of stdout.", valueName: "file"))
    var output: String?

    func run() async throws {
        let (backend, info) = try await location.find()
        let file = try BatchSession.resultFile(output)
        try await BatchSession.eachResult(of: info.id, in: backend) { page in
            try file.write(page.map { $0.json.serialized() + "\n" }.joined())
        }
        try file.close()
    }
}

/// The batch `pipe batch status` and `results` read: its id, and the store or queue it is in.
struct BatchLocation: ParsableArguments {
    @Argument(help: "A batch id, a unique prefix of one, or `last`.")
    var batch: String

    @Option(name: .long, help: "The run store (default: PIPE_STORE, else .pipe/pipe.db in the current folder).")
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Read the batch from PostgreSQL (default: PIPE_QUEUE).", valueName: "url"))
    var queue: String?

    func find() async throws -> (BatchQueue, BatchInfo) {
        try await BatchSession.find(batch, store: store, queue: queue)
    }
}
