import ArgumentParser
import Foundation
import PipeKit

/// `pipe eval SPEC --dataset golden.jsonl`: a pipeline measured on a golden dataset.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a pipeline on a golden dataset: checks and LLM judges, pass rates, regressions.",
        discussion: """
            Each line of the dataset is {"input": ..., "expected": ...} (blank lines skipped). Every \
            input runs through the pipeline as a `pipe batch` item does (the same concurrency, rate \
            limits, run store and resume), then every evaluator of the `evals:` section of the test \
            file scores it. The test file is SPEC's NAME.test.yaml beside it, or --tests FILE (whose \
            `spec:` names the spec when SPEC is left out; `cases:` belongs to `pipe test`):

              spec: support-triage.yaml
              evals:
                - name: has-summary
                  check: { path: output.summary, length: { ">=": 5 } }
                - name: category-matches
                  check: { path: output.category, equals: "{{ expected.category }}" }
                - name: helpful
                  judge:
                    model: judge                     # declared under the spec's models:
                    prompt: "Rate 1-10 how well {{ output.summary }} answers {{ input.body }}."
                    output: { schema: { type: object, required: [score, reason], properties: { score: { type: integer }, reason: { type: string } } } }
                    pass: score >= 7                 # the condition language of when:
              min_pass_rate: { helpful: 0.8, category-matches: 0.95 }

            A check reads `path` (rooted at input, output or expected) and matches it: a plain value \
            or `equals`, `contains`, `matches` (a regular expression), `schema`, `length`, `>=`, `<=`; \
            string values may be templates over input, output and expected. A judge is a one-stage \
            pipeline with the spec's models and defaults: its prompt is rendered over input, output \
            and expected, its answer validated against its schema with re-asks, retries and \
            fallbacks (`retries`, `fallbacks`, `max_tokens`, `temperature`, `timeout`, `mock` may be \
            set on it); `pass:` is a condition over the answer's fields (no `pass:`: it passes when \
            it answers), and a numeric `score` field is averaged. An item whose pipeline failed \
            fails every evaluator.

            The scoreboard (stdout, or --output): per evaluator its pass rate, mean score and the \
            failed items with their dataset line and why; tokens and cost of the pipeline and of \
            the judges apart. --format json is one object; --format junit is JUnit XML (a testsuite \
            per evaluator, a testcase per item). Every eval is recorded in the run store with its \
            spec and dataset hashes and every item's result and run (`pipe logs` lists evals). \
            --compare EVAL_ID (or `last`) adds the regressions (pass -> fail) and improvements \
            (fail -> pass) per item, items matched by dataset line. --resume EVAL_ID (or `last`) \
            continues an eval that was stopped (Ctrl-C, a crash, --max-cost-usd): the items that \
            ended are not run again; those that ended before the stop are scored again.

            Budget: each item is scored as soon as it ends, and --max-cost-usd counts the judges' \
            calls with the pipeline's: no item starts once both together cost that much (exit 4, \
            stderr names the pipeline's and the judges' cost). After --resume, the judges of the \
            items scored again count against it too: once it is reached, no more of them are judged.

            Record once, replay offline: --record FILE writes every exchange of the pipeline and \
            the judges (never a key) as JSON lines; --replay FILE answers every call from it, \
            matched by stage and rendered request, and calls nothing (a call not in it fails its \
            item or evaluator, showing what differs), so an eval reruns in CI without keys.

            `pipe lint` checks the test file too, and it is checked before anything runs (exit 2 \
            with file:line:col): unknown keys, a judge's model not under `models:`, a matcher that \
            can never match the output schema's type (`contains` on a number), a `pass:` condition \
            against the judge's schema, `min_pass_rate` naming no evaluator or outside 0..1.

            The embedded run store only: --queue (PostgreSQL) is refused.

            Exit status: 0 every min_pass_rate met, 1 one is not (stderr names it), 2 usage or an \
            invalid spec, test file or dataset, 4 --max-cost-usd reached (resume with --resume), \
            130 interrupted.

            Examples:
              pipe eval pipelines/support-triage.yaml --dataset golden.jsonl
              pipe eval --mock pipelines/support-triage.yaml --tests pipelines/evals/support-triage.test.yaml --dataset pipelines/evals/support-triage.golden.jsonl
              pipe eval triage.yaml --dataset golden.jsonl --compare last --format junit --output eval.xml
              pipe eval triage.yaml --dataset golden.jsonl --record triage.cassette.jsonl
              pipe eval triage.yaml --dataset golden.jsonl --replay triage.cassette.jsonl
              pipe eval --resume last
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, junit
    }

    @Argument(help: "The spec file (optional with --tests naming it in `spec:`, or with --resume).")
    var spec: String?

    @Option(name: .long, help: ArgumentHelp("The golden dataset: JSON Lines of {\"input\": ..., \"expected\": ...}.", valueName: "file"))
    var dataset: String?

    @Option(name: .long, help: ArgumentHelp("The test file with `evals:` (default: NAME.test.yaml beside the spec).", valueName: "file"))
    var tests: String?

    @Option(name: .long, help: "How many items (and judges) run at once; their model calls share this bound.")
    var concurrency = 8

    @Option(name: .long, help: "The scoreboard's format: text, json or junit.")
    var format: Format = .text

    @Flag(name: .long, help: "Replace every model (the judges' too) by the offline mock provider.")
    var mock = false

    @Option(name: .long, help: ArgumentHelp("Show regressions and improvements against an earlier eval (an id, a prefix, or `last`).", valueName: "eval-id"))
    var compare: String?

    @Option(name: .long, help: ArgumentHelp("Start no item once the ended items and their judges cost this much (USD); exit 4, --resume continues.", valueName: "usd"))
    var maxCostUSD: Double?

    @Option(name: .long, help: ArgumentHelp("Continue an eval that was stopped (an id, a prefix, or `last`).", valueName: "eval-id"))
    var resume: String?

    @Option(name: .long, help: ArgumentHelp("Write the scoreboard here instead of stdout.", valueName: "file"))
    var output: String?

    @Flag(name: .long, help: "Print nothing on stderr but the eval id, errors and the verdict.")
    var quiet = false

    @OptionGroup var recording: RecordOptions

    @Option(name: .long, help: "The run store (default: .pipe/pipe.db beside the spec, or PIPE_STORE).")
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Refused: evals are recorded in the embedded run store only (--store).", valueName: "url"))
    var queue: String?

    @Option(name: .long, help: ArgumentHelp(
        "Write every model exchange of the pipeline and the judges (never a key) to this JSON Lines cassette.", valueName: "file"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp(
        "Answer every call of the pipeline and the judges from this cassette (--record); nothing is called.", valueName: "file"))
    var replay: String?

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if record != nil, replay != nil { throw ValidationError("--record and --replay cannot go together") }
        if record != nil || replay != nil, mock { throw ValidationError("--mock calls no model: drop --record/--replay") }
        if let maxCostUSD, !(maxCostUSD > 0) { throw ValidationError("--max-cost-usd must be above 0") }
        if queue != nil {
            throw ValidationError("pipe eval records evals in the embedded run store only; drop --queue (use --store)")
        }
        if resume != nil {
            if spec != nil || dataset != nil || tests != nil {
                throw ValidationError("--resume continues the eval's own spec, tests and dataset; drop them")
            }
        } else {
            if spec == nil, tests == nil { throw ValidationError("give the spec: pipe eval SPEC --dataset FILE (or --tests FILE naming it)") }
            if dataset == nil { throw ValidationError("give the dataset: --dataset FILE (JSON Lines of {\"input\": ..., \"expected\": ...})") }
        }
    }

    func run() async throws {
        var settings = EvalSession.Settings(
            mock: mock, quiet: quiet, concurrency: concurrency, maxCostUSD: maxCostUSD, format: format, output: output,
            compare: compare)
        settings.replay = try Cassettes.replay(replay)
        settings.record = try recording.choice()
        settings.recorder = try Cassettes.recorder(record)
        do {
            if let resume {
                try await EvalSession.resume(resume, store: store, settings: settings)
            } else if let dataset {
                try await EvalSession.start(spec: spec, tests: tests, dataset: dataset, store: store, settings: settings)
            }
        } catch {
            try? settings.recorder?.finish()
            throw error
        }
        try Cassettes.finish(settings.recorder)
    }
}
