import ArgumentParser
import Foundation
import PipeKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline on an input and print its output.",
        discussion: """
            Compiles the spec (exit 2 on errors, with the same diagnostics as `pipe lint`), reads \
            the input from stdin or --input, validates it against the input schema (exit 3, \
            before any call), then runs the stages: each starts as soon as the stages it reads \
            have finished, up to --concurrency at once. Every reply is validated against its \
            stage's output schema; a reply that fails is re-asked with the errors, then the \
            stage's fallback models are tried.

            The output goes to stdout: a string as raw text, anything else as JSON. Progress, \
            warnings and the run summary go to stderr.

            Exit status: 0 success, 1 a stage failed, 2 invalid spec or usage, 3 invalid input, \
            4 a budget would be exceeded, 5 waiting for approval (`pipe approve RUN_ID` continues), \
            130 interrupted.

            Every run is recorded in the run store (.pipe/pipe.db beside the spec, or --store, or \
            PIPE_STORE): `pipe logs` shows it, `--resume RUN_ID` re-runs it without repeating the \
            stages that finished, `--cache` answers identical calls from it.

            Environment: \(ProviderRegistry.apiKeyVariables.joined(separator: ", ")) (or a model's \
            api_key_env); \(ProviderRegistry.baseURLVariables.joined(separator: ", ")). No key is \
            needed for a loopback base_url.

            Examples:
              pipe run pipelines/research-report.yaml < topic.txt
              pipe run --mock pipelines/support-triage.yaml --input pipelines/support-triage.input.json
              pipe run --dry-run pipelines/code-review.yaml
              pipe run a.yaml < in.txt | pipe run b.yaml
            """
    )

    @Argument(help: "The spec file.")
    var spec: String

    @Option(name: .long, help: "Read the input from this file instead of stdin.")
    var input: String?

    @Flag(name: .long, help: "Print the output as JSON, also when it is a string.")
    var json = false

    @Flag(name: .long, help: "Replace every model by the offline mock provider: no key, no network, no cost.")
    var mock = false

    @Flag(name: .long, help: "Compile and print the plan and the worst-case tokens and cost; call nothing.")
    var dryRun = false

    @Option(name: .long, help: "How many stages may call their models at once.")
    var concurrency = 8

    @Flag(name: .long, help: "Print nothing on stderr but errors.")
    var quiet = false

    @Option(name: .long, help: "Write JSON Lines trace events (schemas/trace-event.schema.json) to this file.")
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

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if noStore, resume != nil || cache || store != nil {
            throw ValidationError("--no-store cannot go with --resume, --cache or --store")
        }
        if resume != nil, input != nil { throw ValidationError("--resume reuses the run's input; drop --input") }
    }

    func run() async throws {
        let pipeline = try SpecFile.compileOrExit(spec, quiet: quiet)
        if dryRun {
            let inputTokens = try input.map { TokenEstimate.tokens(forCharacters: try readInputOrExit($0).count) } ?? 0
            Terminal.write(DryRunPlan.render(pipeline, inputTokens: inputTokens))
            return
        }
        let recording = try RunRecording.open(
            store: noStore ? nil : RunRecording.path(store: store, spec: spec),
            required: resume != nil || cache, quiet: quiet)
        let resumed = try resume.map { try recording.resolve($0, spec: spec) }
        let value = try resumed?.input ?? readValidatedInput(pipeline)
        let session = RunSession(
            spec: spec, pipeline: pipeline, recording: recording,
            settings: .init(mock: mock, json: json, quiet: quiet, concurrency: concurrency, cache: cache, trace: trace))
        try await session.execute(
            input: value, resumedFrom: resumed?.id,
            approval: ApprovalPolicy(approved: resumed?.approved ?? [], approveAll: approveAll, ask: Approver.askOnTerminal()))
    }

    private func readInputOrExit(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            Terminal.writeError("pipe: cannot read the input file \(path)\n")
            throw ExitCodeError(code: 2)
        }
        return [UInt8](data)
    }

    private func readValidatedInput(_ pipeline: CompiledPipeline) throws -> JSONValue {
        let bytes: [UInt8]
        if let input {
            bytes = try readInputOrExit(input)
        } else {
            if isatty(0) == 1, !quiet {
                Terminal.writeError("pipe: reading the input from the terminal; end it with Ctrl-D (or use --input FILE)\n")
            }
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        do {
            let validator = try pipeline.inputSchema.map { schema throws(SchemaError) in try JSONSchema(compiling: schema) }
            return try RunInput.read(bytes, schema: pipeline.inputSchema, validator: validator)
        } catch let problem as RunInput.Problem {
            Terminal.writeError("pipe: \(problem)\n")
            throw ExitCodeError(code: 3)
        } catch {
            Terminal.writeError("pipe: the input schema cannot be compiled: \(error)\n")
            throw ExitCodeError(code: 2)
        }
    }
}
