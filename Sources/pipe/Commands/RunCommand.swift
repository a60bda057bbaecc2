import ArgumentParser
import Foundation
import PipeKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline on an input and print its output.",
        discussion: """
            Compiles the spec (exit 2 on errors, with the same diagnostics as `pipe lint`), reads \
            the input from stdin or --input (a file, a pipe or `<(cmd)`; at most --max-input, \
            64 MiB by default, else exit 3), validates it against the input schema (exit 3, \
            before any call), then runs the stages: each starts as soon as the stages it reads \
            have finished. At most --concurrency stages and for_each items call their models at \
            once, across the run (a for_each's `concurrency` bounds its items within that). Every \
            reply is validated against its stage's output schema (off the HTTP thread; a \
            `pattern` match may take at most 10,000,000 steps); a reply that fails is re-asked \
            with the errors, then the stage's fallback models are tried.

            Tools: a stage with `tools: [server.tool | server]` offers its model those tools \
            from the servers under the spec's top-level `tools:` (MCP: `mcp: { command: [...] }` \
            or `mcp: { url: ... }`, `env`, `max_result_chars`), started once for the run and \
            stopped when it ends. Each turn the tools the model calls run at once and their \
            results (errors included) go back, until it answers or `max_turns` (default 8) turns \
            have passed, which fails the attempt. Every turn reserves its worst case against \
            the budget. A `${VAR}` of a server's `env` that is not set is exit 2. `pipe tools` \
            lists the servers' tools.

            Limits: a stage's timeout bounds each attempt as a whole. A reply may be at most \
            1 KiB per max_tokens token (at least 1 MiB), one streamed event at most 1 MiB; a \
            larger one fails the attempt as a malformed reply (retried). Before each call its \
            worst case (input at about 4 characters a token, output schema included, plus \
            max_tokens) is reserved against the budget, as --dry-run counts it; when a call does \
            not fit, nothing more is called, the calls in flight finish and are counted, and \
            the run exits 4. A model's rate_limit (requests_per_minute, tokens_per_minute) paces \
            every call of the process to that API model, for_each items included: a call waits \
            its turn after its budget reservation and before its timeout starts, and a 429 \
            pauses every call to the model and slows its pace for a while. A model's \
            circuit_breaker ({ failures: N, cool_down: 60s }) stops calling it after N failed \
            calls in a row (5xx, 529, 408, timeouts, broken connections): for cool_down every \
            call fails at once and goes to the stage's fallback model (or its on_error), then one \
            trial call closes it again or not; the summary says how many calls it saved.

            A command stage (`run: [program, args...]`, or one line with `shell: true`; `stdin:`, \
            `env:`) runs a program instead of a model: each argument and stdin rendered like a \
            prompt, in the spec's directory, in a process group of its own, with only the \
            variables `env:` names (never an API key). Its stdout (at most 16 MiB) is its value, \
            JSON checked against the output schema or text without one; a non-zero exit, a \
            signal or invalid output is a failed attempt (retries apply), and `timeout` kills \
            the whole group, as Ctrl-C does. Under --mock it runs, unless it has `mock:` values.

            A pipeline stage (`pipeline: teams/research.yaml`, with `input: "{{ ... }}"` or a \
            mapping of templates for an object input) runs another spec inside this run: the \
            child is compiled with the parent (its input type-checked, its output's fields \
            checked where they are read), its calls count against this run's budget and \
            --concurrency, and its stages are recorded and traced under the stage \
            (`team/researcher`, `team[2]/researcher` for a for_each item); --resume, --cache \
            and --mock reach them. The child uses its own `models:`, through the same providers, \
            rate limits and circuit breakers as the parent's calls to the same API model.

            One stage alone: --stage NAME runs only that stage, its output the stage's value; \
            the stages it reads are not run, their values come from --given STAGE=FILE.json \
            (checked against their output schemas; exit 2 when one is missing or does not match).

            Record and replay: --record FILE writes every model exchange as a JSON line \
            (provider, model, stage, the rendered request with its content blocks and tools, the \
            reply's blocks, stop reason and usage, or the error of a failed call; never a key, a \
            header or a base URL), and each tool list and tool call of a stage with `tools:`. \
            --replay FILE answers every call from it, matched by stage and rendered request, and \
            calls nothing (no key needed): failed calls fail again (the same retries and \
            fallbacks), and a tool-using stage replays every turn with its tool results from the \
            cassette, no tool server started. A call not in it fails its stage at once, showing \
            the lines that differ from the nearest recorded request of the stage (a prompt edited \
            since the recording). Test cases replay with `replay:` (`pipe help test`).

            Degrading gracefully: a stage with `on_error: skip` or `on_error: { default: VALUE }` \
            that fails after its retries and fallbacks does not fail the run: it is absent (like \
            a stage whose `when:` does not hold; references to it need `??`) or has that value. \
            The run exits 0; the summary and `pipe logs` show the stage as `failed → skipped` or \
            `failed → default` with its last error, and --resume and --cache run it again. With \
            --strict-errors (or PIPE_STRICT_ERRORS=1) such a partial run exits 1 and prints no \
            output.

            Sensitive text: with `record: { prompts: hash, outputs: hash }` in the spec (or \
            --record-prompts hash, --record-outputs hash; PIPE_RECORD_PROMPTS, PIPE_RECORD_OUTPUTS), \
            the input and prompts (tool results included), and the replies, stage values, output \
            and tool arguments, are kept only as `sha256:HEX (N bytes)` in the run store, --trace, \
            the OpenTelemetry export and --record cassettes; `pipe logs` shows the hashes; stdout \
            stays full. --cache still matches calls by the hash of the request, but a stage whose \
            value is hashed is called again by --resume and --cache. To --resume a run whose input \
            was hashed, give the input again (--input FILE or stdin): it must have the same hash.

            OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` appended) or \
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, the run is exported as spans over OTLP/HTTP \
            (OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf, the default, or http/json; grpc is not \
            supported), after the GenAI conventions: `invoke_workflow` for the run, `invoke_agent` \
            per stage, `chat` per model call, `execute_tool` per tool call, with tokens, model, \
            finish reasons, errors and cost. Also read: OTEL_EXPORTER_OTLP_HEADERS, \
            OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_BSP_EXPORT_TIMEOUT \
            (how long the exit waits for the last spans, 2 s), and \
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true (prompts and replies in the \
            spans; never otherwise). A W3C TRACEPARENT (and TRACESTATE) makes the run a child of \
            the caller's span, in the caller's trace: the trace id in the run store, --trace and \
            the spans is the same. A collector that fails is one warning; the exit code stays.

            The output goes to stdout: a string as raw text, anything else as JSON. Progress, \
            warnings and the run summary go to stderr.

            Exit status: 0 success, 1 a stage failed (or, with --strict-errors, was degraded), \
            2 invalid spec or usage, 3 invalid input, 4 a budget would be exceeded, 5 waiting for approval (`pipe approve RUN_ID` continues), \
            130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP: in-flight calls are cancelled, the \
            finished stages are kept, and the `--resume` command is printed; 74 stdout, stderr or \
            the --trace file could not be written (the run is recorded: `pipe logs RUN_ID` shows \
            its output), 141 stdout's reader has gone.

            Every run is recorded in the run store (.pipe/pipe.db beside the spec, or --store, or \
            PIPE_STORE): `pipe logs` shows it, `--resume RUN_ID` re-runs it without repeating the \
            stages that finished, `--cache` answers identical calls from it. A store that cannot \
            be opened stops the run before it starts (exit 2) unless --no-store is given; one that \
            fails during the run prints a warning (even with --quiet) and keeps the run's exit \
            status. A run still going in another process cannot be resumed (exit 2, naming it).

            Environment: \(ProviderRegistry.apiKeyVariables.joined(separator: ", ")) (or a model's \
            api_key_env); \(ProviderRegistry.baseURLVariables.joined(separator: ", ")). No key is \
            needed for a loopback base_url.

            Examples:
              pipe run pipelines/research-report.yaml < topic.txt
              pipe run --mock pipelines/support-triage.yaml --input pipelines/support-triage.input.json
              pipe run --dry-run pipelines/code-review.yaml
              pipe run a.yaml < in.txt | pipe run b.yaml
              pipe run pipelines/research-report.yaml --stage editor --given writer=writer.json < topic.txt
              pipe run spec.yaml --record cassette.jsonl < in.txt; pipe run spec.yaml --replay cassette.jsonl < in.txt
            """
    )

    @Argument(help: "The spec file.")
    var spec: String

    @Option(name: .long, help: "Read the input from this file instead of stdin.")
    var input: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read at most this much input (K, M, G are powers of 1024); a larger input exits 3.", valueName: "size"))
    var maxInput = ByteCount(ReadLimits.input)

    @Flag(name: .long, help: "Print the output as JSON, also when it is a string.")
    var json = false

    @Flag(name: .long, help: "Replace every model by the offline mock provider: no key, no network, no cost.")
    var mock = false

    @Flag(name: .long, help: "Compile and print the plan and the worst-case tokens and cost, as the run reserves them; call nothing.")
    var dryRun = false

    @Option(name: .long, help: "How many stages and for_each items may call their models at once, across the run.")
    var concurrency = 8

    @Flag(name: .long, help: "Print nothing on stderr but errors.")
    var quiet = false

    @Option(name: .long, help: "Write JSON Lines trace events (schemas/trace-event.schema.json) to this file; if it cannot be written to the end, the run exits 74.")
    var trace: String?

    @Option(name: .long, help: "Re-run a failed or interrupted run (an id from `pipe logs`, or `last`): finished stages are reused, the input is the run's.")
    var resume: String?

    @Flag(name: .long, help: "Reuse the replies of identical earlier calls from the run store, for every stage.")
    var cache = false

    @Option(name: .long, help: "The run store (default: .pipe/pipe.db beside the spec, or PIPE_STORE).")
    var store: String?

    @Flag(name: .long, help: "Do not record this run (no resume, no cache).")
    var noStore = false

    @Flag(name: .long, help: "Approve every stage with `approve: true` without asking (for scripts and CI).")
    var approveAll = false

    @Option(name: .long, help: "Run only this stage; the stages it reads are not run: give their values with --given.")
    var stage: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --stage: the value of a stage it reads, from a JSON file (repeat for each).", valueName: "stage=file.json"))
    var given: [String] = []

    @Option(name: .long, help: "Write every model exchange (stage, model, rendered request, reply or error; tool lists and tool calls; never a key) to this JSON Lines cassette.")
    var record: String?

    @Option(name: .long, help: "Answer every model call and tool call from this cassette (--record), matched by stage and rendered request; a call not in it fails its stage, showing what differs. Nothing is called, no tool server started.")
    var replay: String?

    @OptionGroup var recording: RecordOptions

    @Flag(name: .long, help: "Exit 1, without printing the output, when a stage's on_error let the run go on without it (failed → skipped or failed → default); also PIPE_STRICT_ERRORS=1.")
    var strictErrors = false

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if noStore, resume != nil || cache || store != nil {
            throw ValidationError("--no-store cannot go with --resume, --cache or --store")
        }
        if !given.isEmpty, stage == nil { throw ValidationError("--given goes with --stage, the one stage to run") }
        if stage != nil, resume != nil { throw ValidationError("--stage cannot go with --resume") }
        if record != nil, replay != nil { throw ValidationError("--record and --replay cannot go together") }
        if (record != nil || replay != nil), mock { throw ValidationError("--mock calls no model: drop --record/--replay") }
        for entry in given where !entry.contains("=") {
            throw ValidationError("--given takes STAGE=FILE.json, found `\(entry)`")
        }
    }

    /// A size in bytes on the command line: `64M`, `512K`, `1G`, `1000`.
    struct ByteCount: ExpressibleByArgument {
        var bytes: Int

        init(_ bytes: Int) {
            self.bytes = bytes
        }

        init?(argument: String) {
            guard let bytes = ByteSize.parse(argument) else { return nil }
            self.bytes = bytes
        }

        var defaultValueDescription: String { ByteSize.text(bytes) }
    }

    func run() async throws {
        // The run store opens on a thread of its own, started here (or at the process's start,
        // `EarlyStart`), while the spec compiles, the input is read and the providers are
        // prepared; the run waits for it only to record its start, before its first call. A
        // store that is not there yet is created once the spec compiled.
        let location = dryRun || noStore ? nil : RunRecording.path(store: store, spec: spec)
        let early = location.map(RunStores.exists) ?? false
        let openedEarly = EarlyStart.store.flatMap { $0.path == location ? $0.opening : nil }
            ?? RunRecording.opening(early ? location : nil, spec: spec)
        // libcurl's start and the HTTP client's thread, likewise beside the compile (a `--mock`
        // run never starts libcurl).
        if !mock, !dryRun, replay == nil { HTTPClient.prepareShared() }
        var pipeline = try await SpecFile.earlyCompiledOrExit(spec, quiet: quiet)
        let alone = try StageAlone.prepare(pipeline, stage: stage, given: given)
        pipeline = alone.pipeline
        try recording.apply(to: &pipeline)
        if dryRun {
            // The input as a stage's prompt holds it (the raw bytes when it cannot be read so).
            var inputCharacters = 0
            if input != nil {
                let bytes = try readInputOrExit()
                let value = try? RunInput.read(bytes, schema: pipeline.inputSchema, validator: nil)
                inputCharacters = value.map { TemplateRenderer.text(of: $0).utf8.count } ?? bytes.count
            }
            try Terminal.write(DryRunPlan.render(pipeline, inputCharacters: inputCharacters))
            return
        }
        let opening = early ? openedEarly : RunRecording.opening(location, spec: spec)
        var resumed: RunLifecycle.Resumption?
        if let resume {
            resumed = try await RunRecording.opened(opening).resume(resume, spec: spec)
        }
        let value = try resumed.map { try resumedInput($0, pipeline) } ?? readValidatedInput(pipeline)
        var settings = RunSession.Settings(
            mock: mock, json: json, quiet: quiet, concurrency: concurrency, cache: cache, trace: trace,
            strictErrors: strictErrors || StrictErrors.fromEnvironment)
        settings.given = alone.given
        settings.replay = try Cassettes.replay(replay)
        settings.recorder = try Cassettes.recorder(record)
        let session = RunSession(spec: spec, pipeline: pipeline, settings: settings)
        let prepared = try session.prepare(
            approval: ApprovalPolicy(approved: resumed?.approved ?? [], approveAll: approveAll, ask: Approver.askOnTerminal()))
        let recording = try await RunRecording.opened(opening)
        do {
            try await session.execute(prepared, recording: recording, input: value, resuming: resumed)
        } catch {
            try Cassettes.finish(settings.recorder)
            throw error
        }
        try Cassettes.finish(settings.recorder)
    }

    /// The input's bytes, from --input (a file, a FIFO such as `<(cmd)`, a device) or stdin:
    /// exit 3 when it is over --max-input, 2 when it cannot be read.
    private func readInputOrExit() throws -> [UInt8] {
        let failure: BoundedRead.Problem
        do {
            if let input { return try BoundedRead.file(input, limit: maxInput.bytes) }
            if isatty(0) == 1, !quiet {
                try? Terminal.writeError("pipe: reading the input from the terminal; end it with Ctrl-D (or use --input FILE)\n")
            }
            return try BoundedRead.standardInput(limit: maxInput.bytes)
        } catch {
            failure = error
        }
        let name = input.map { "the input file \($0)" } ?? "the input on stdin"
        if case .tooLarge = failure {
            try Terminal.writeError("pipe: \(name) is too large: \(failure); --max-input SIZE raises the limit\n")
            throw ExitCodeError(code: 3)
        }
        try Terminal.writeError("pipe: cannot read \(name): \(failure)\n")
        throw ExitCodeError(code: 2)
    }

    /// The input of the run being resumed: the one it recorded, or, when it recorded only its
    /// hash (`record.prompts: hash`), the one given again (--input or stdin), which must match it.
    private func resumedInput(_ resumed: RunLifecycle.Resumption, _ pipeline: CompiledPipeline) throws -> JSONValue {
        guard let hash = resumed.input.stringValue.flatMap(HashedText.init(recorded:)) else {
            if input != nil {
                try Terminal.writeError("pipe: --resume reuses the run's input; drop --input\n")
                throw ExitCodeError(code: 2)
            }
            return resumed.input
        }
        if input == nil, isatty(0) == 1 {
            try Terminal.writeError("pipe: run \(resumed.id) recorded its input as its hash (record.prompts: hash): "
                + "give the same input again, with --input FILE or on stdin\n")
            throw ExitCodeError(code: 2)
        }
        let value = try readValidatedInput(pipeline)
        guard HashedText(value) == hash else {
            try Terminal.writeError("pipe: the input given is not the one run \(resumed.id) had (its hash is \(hash)): "
                + "give the same input again\n")
            throw ExitCodeError(code: 3)
        }
        return value
    }

    private func readValidatedInput(_ pipeline: CompiledPipeline) throws -> JSONValue {
        let bytes = try readInputOrExit()
        do {
            let validator = try pipeline.inputSchema.map { schema throws(SchemaError) in try JSONSchema(compiling: schema) }
            return try RunInput.read(bytes, schema: pipeline.inputSchema, validator: validator)
        } catch let problem as RunInput.Problem {
            try Terminal.writeError("pipe: \(problem)\n")
            throw ExitCodeError(code: 3)
        } catch {
            try Terminal.writeError("pipe: the input schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }
}
