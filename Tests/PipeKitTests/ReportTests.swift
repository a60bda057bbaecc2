import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe report` as a user runs it: real runs (against the fake LLM server on 127.0.0.1, or
/// `--mock`) and a real batch, each report rendered by headless Chromium, and the DOM after
/// rendering checked: stage names, one bar per attempt, the failed stage marked, hostile
/// replies shown as text, and no reference to anything outside the file. A screenshot of each
/// is kept in `.build/test-output/report/`.
@Suite struct ReportTests {
    static let hostile = #"<script>alert(1)</script></details> "quoted" 'single' ]]> <img src="https://evil.example/x.png">"#

    /// chain.yaml's replies: plan is re-asked once (an invalid reply), draft's gpt model fails
    /// twice with a 500 and claude takes over (a fallback), final answers with hostile text.
    static func chainReplies(failDraft: Bool) -> FakeLLMServer.Handler {
        { request in
            let stage = RunEndToEndTests.stage(of: request)
            if stage == "plan", request.callNumber == 1 { return .text(#"{"stepz": []}"#) }
            if stage == "draft", failDraft { return .error(status: 400, message: "bad <b>schema</b>", type: "invalid_request_error") }
            if stage == "draft", request.model == "gpt-test" { return .error(status: 500, message: "boom", type: "server_error") }
            if stage == "final" { return .text(Self.hostile) }
            return RunEndToEndTests.happy(request)
        }
    }

    /// A folder with chain.yaml and a store, and `pipe` pointed at a fake server.
    struct Chain: ~Copyable {
        let folder = try! TemporaryFolder("pipe-report")
        var spec: String { folder.url.appendingPathComponent("chain.yaml").path }
        var store: String { folder.storePath }

        init() throws {
            try FileManager.default.copyItem(atPath: RunEndToEndTests.chain, toPath: spec)
        }
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        RunEndToEndTests().environment(server)
    }

    /// `pipe report REFERENCE -o FILE`, then the DOM Chromium makes of it and a screenshot.
    func report(_ reference: String, store: String, in folder: URL, name: String) async throws -> (html: String, dom: String) {
        try await report(reference, location: ["--store", store], in: folder, name: name)
    }

    /// The same, on the store `location` names (`--store PATH` or `--queue URL`).
    func report(_ reference: String, location: [String], in folder: URL, name: String) async throws -> (html: String, dom: String) {
        let file = folder.appendingPathComponent("\(name).html")
        let result = try await runPipe(
            ["report", reference, "-o", file.path] + location, directory: folder, environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("wrote the report"))
        let html = try String(contentsOf: file, encoding: .utf8)
        Self.expectSelfContained(html)
        let dom = try await Chromium.dumpDOM(file)
        let png = try await Chromium.screenshot(file, name: name)
        print("pipe report \(reference): screenshot at \(png.path)")
        return (html, dom)
    }

    /// No `src`, `href`, `url(` or `@import` reaches outside the file: links are `#anchors`,
    /// and a URL shows up only inside escaped text.
    static func expectSelfContained(_ html: String) {
        let attribute = try! Regex(#"(?i)\b(src|href|xlink:href|action|srcset)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))"#)
        // Real tags only: escaped text has no `<`.
        let tags = html.matches(of: try! Regex(#"<[a-zA-Z][^<>]*>"#)).map { String($0.output[0].substring ?? "") }
        for match in tags.flatMap({ $0.matches(of: attribute) }) {
            let value = String(match.output[3].substring ?? match.output[4].substring ?? match.output[5].substring ?? "")
            #expect(value.hasPrefix("#"), "an attribute reaches outside the report: \(match.output[0].substring ?? "")")
        }
        for match in html.matches(of: try! Regex(#"(?i)url\(\s*['"]?([^)'"]*)"#)) {
            let target = String(match.output[1].substring ?? "")
            #expect(target.hasPrefix("#"), "a url( reaches outside the report: \(target)")
        }
        #expect(!html.lowercased().contains("@import"), "a CSS @import in the report")
        #expect(!html.lowercased().contains("<script"), "a script element in the report")
        #expect(!html.lowercased().contains("<link"), "a link element in the report")
        // Every http(s) URL in the file is the hostile reply's, escaped.
        let urls = html.ranges(of: "https://").count + html.ranges(of: "http://").count
        let escapedURLs = html.ranges(of: "https://evil.example").count
        #expect(urls == escapedURLs, "a URL outside escaped text")
    }

    /// The hostile reply is in the DOM as text, never as an element.
    static func expectHostileAsText(_ dom: String) {
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/details&gt;"))
        #expect(dom.contains("]]&gt;"))
        #expect(!dom.lowercased().contains("<script"))
        #expect(!dom.contains("<img"))
        #expect(!dom.contains("evil.example/x.png\">"))
    }

    /// How many attempt bars the timeline draws for a unit.
    static func bars(_ dom: String, unit: String) -> Int {
        dom.ranges(of: try! Regex(#"<rect class="attempt[^"]*" data-unit=""# + NSRegularExpression.escapedPattern(for: unit) + #"""#)).count
    }

    @Test func aFinishedRunShowsItsDAGTimelineStagesAndTheHostileReplyAsText() async throws {
        let chain = try Chain()
        let server = FakeLLMServer(handler: Self.chainReplies(failDraft: false))
        try server.start()
        defer { server.stop() }
        let run = try await runPipe(["run", chain.spec, "--store", chain.store], stdin: #"{"topic": "tides <i>&amp;</i>"}"#,
                                    environment: environment(server))
        #expect(run.status == 0, "\(run.stderr)")
        let (html, dom) = try await report("last", store: chain.store, in: chain.folder.url, name: "finished")
        for stage in ["plan", "draft", "left", "right", "final"] {
            #expect(dom.contains(#"<g class="node succeeded" data-stage="\#(stage)">"#), "DAG box of \(stage)")
            #expect(dom.contains(#"<section class="stage succeeded"#) && dom.contains(#"data-stage="\#(stage)"><h3>\#(stage)</h3>"#))
        }
        #expect(dom.contains(#"class="edge" data-from="plan" data-to="draft""#))
        #expect(dom.contains(#"class="edge" data-from="input" data-to="plan""#))
        // One bar per attempt: plan was re-asked, draft retried then fell back.
        #expect(Self.bars(dom, unit: "plan") == 2)
        #expect(Self.bars(dom, unit: "draft") == 3)
        #expect(Self.bars(dom, unit: "final") == 1)
        #expect(dom.contains(#"<rect class="attempt invalid" data-unit="plan" data-attempt="1""#))
        #expect(dom.contains(#"<rect class="attempt ok fallback retry" data-unit="draft" data-attempt="3""#))
        // The critical path ends with final, and the models are on the boxes.
        #expect(dom.contains(#"<g class="unit succeeded critical" data-unit="final">"#))
        #expect(dom.contains("claude: claude-test") && dom.contains("gpt: gpt-test"))
        // The prompt as rendered, with the validation error the re-ask carried.
        #expect(dom.contains("STAGE plan: tides &lt;i&gt;&amp;amp;&lt;/i&gt;"))
        #expect(dom.contains(#"missing required property &quot;steps&quot;"#) || dom.contains(#"missing required property "steps""#))
        Self.expectHostileAsText(dom)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains(RunEndToEndTests.secret))
    }

    @Test func aFailedRunMarksTheFailedStageRedAndTheOthersNotRun() async throws {
        let chain = try Chain()
        let server = FakeLLMServer(handler: Self.chainReplies(failDraft: true))
        try server.start()
        defer { server.stop() }
        let run = try await runPipe(["run", chain.spec, "--store", chain.store], stdin: #"{"topic": "tides"}"#,
                                    environment: environment(server))
        #expect(run.status == 1)
        let (_, dom) = try await report("last", store: chain.store, in: chain.folder.url, name: "failed")
        #expect(dom.contains(#"<g class="node failed" data-stage="draft">"#))
        #expect(dom.contains(#"<section class="stage failed"#))
        #expect(dom.contains(#"<g class="node notrun" data-stage="left">"#))
        #expect(dom.contains(#"<g class="node notrun" data-stage="final">"#))
        #expect(dom.contains(#"<rect class="attempt failed" data-unit="draft" data-attempt="1""#))
        #expect(Self.bars(dom, unit: "draft") == 1)
        // The error, escaped, in the summary and on the stage.
        #expect(dom.contains("400 from openai"))
        #expect(dom.contains("bad &lt;b&gt;schema&lt;/b&gt;"))
        #expect(!dom.contains("<b>schema</b>"))
    }

    /// A copy of an example pipeline (and its schemas), run with `--mock`.
    func mockRun(_ example: String, input: String, folder: borrowing TemporaryFolder) async throws -> String {
        let spec = folder.url.appendingPathComponent("\(example).yaml").path
        try FileManager.default.copyItem(atPath: Paths.pipelines.appendingPathComponent("\(example).yaml").path, toPath: spec)
        let schemas = folder.url.appendingPathComponent("schemas").path
        if !FileManager.default.fileExists(atPath: schemas) {
            try FileManager.default.copyItem(atPath: Paths.pipelines.appendingPathComponent("schemas").path, toPath: schemas)
        }
        let run = try await runPipe(["run", spec, "--mock", "--store", folder.storePath], stdin: input,
                                    environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.status == 0, "\(run.stderr)")
        return spec
    }

    @Test func aLoopedRunShowsItsLoopAndEveryIteration() async throws {
        let folder = try TemporaryFolder("pipe-report")
        let brief = try String(contentsOf: Paths.pipelines.appendingPathComponent("writer-critic-loop.input.txt"), encoding: .utf8)
        _ = try await mockRun("writer-critic-loop", input: brief, folder: folder)
        let (_, dom) = try await report("last", store: folder.storePath, in: folder.url, name: "loop")
        #expect(dom.contains(#"class="loop-edge" data-from="critic" data-to="writer""#))
        #expect(dom.contains("loop until critic.score &gt;= 8, at most 4×, ran 2×"))
        for unit in ["writer@1", "critic@1", "writer@2", "critic@2", "promoter"] {
            #expect(Self.bars(dom, unit: unit) == 1, "one attempt bar for \(unit)")
            #expect(dom.contains(#"data-stage="\#(unit)"><h3>\#(unit)</h3>"#))
        }
        // The promoter waited for the whole loop: the critical path runs through every iteration.
        for unit in ["writer@1", "critic@1", "writer@2", "critic@2", "promoter"] {
            #expect(dom.contains(#"critical" data-unit="\#(unit)">"#), "\(unit) on the critical path")
        }
    }

    /// A stage with tools (the real MCP git server): each tool call is a bar under its attempt,
    /// named, with its duration; a failed call (a tool the model made up, with a hostile name)
    /// is red and its name is text.
    @Test func toolCallsAreBarsUnderTheirAttemptAndAFailedOneIsRed() async throws {
        let folder = try AgentEndToEndTests.repository(spec: AgentEndToEndTests.spec)
        let server = FakeLLMServer { request in
            switch request.callNumber {
            case 1:
                .blocks([
                    .toolUse(name: "git_git_log", input: #"{"repo_path": "."}"#),
                    .toolUse(name: "git_git_diff_unstaged", input: #"{"repo_path": "."}"#),
                    .toolUse(name: "bad<b>tool</b>", input: "{}"),
                ])
            default: .text(#"{"verdict": "fine"}"#)
            }
        }
        try server.start()
        defer { server.stop() }
        let store = folder.storePath
        let run = try await runPipe(
            ["run", "--quiet", "--store", store, folder.url.appendingPathComponent("review.yaml").path], stdin: "x",
            environment: [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL,
                "ANTHROPIC_API_KEY": "k", "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let (_, dom) = try await report("last", store: store, in: folder.url, name: "tools")
        for tool in ["git.git_log", "git.git_diff_unstaged"] {
            #expect(dom.contains(#"<rect class="tool" data-unit="review" data-attempt="1" data-tool="\#(tool)""#), "a bar for \(tool)")
            #expect(dom.contains(try Regex(#"<text class="tool-label"[^>]*>\#(NSRegularExpression.escapedPattern(for: tool)) [0-9.]+m?s</text>"#)),
                    "\(tool) named with its duration")
        }
        #expect(dom.contains(#"<rect class="tool failed" data-unit="review" data-attempt="1""#))
        #expect(dom.contains(try Regex(#"<text class="tool-label failed"[^>]*>bad&lt;b&gt;tool&lt;/b&gt; [0-9.]+m?s</text>"#)))
        #expect(dom.contains("there is no tool `bad&lt;b&gt;tool&lt;/b&gt;`"))
        #expect(!dom.contains("<b>tool</b>"))
        // The timeline has the tool calls' rows under the stage's: three calls at once, three rows.
        let height = try #require(dom.firstMatch(of: try Regex(#"<svg class="timeline" width="[0-9.]+" height="([0-9.]+)""#)))
        #expect(Double(height.output[1].substring ?? "") == Timeline.top + 4 * Timeline.rowHeight + 10)
    }

    @Test func aFanOutShowsItsItemCountAndABarPerItem() async throws {
        let folder = try TemporaryFolder("pipe-report")
        let question = try String(contentsOf: Paths.pipelines.appendingPathComponent("orchestrator-workers.input.txt"), encoding: .utf8)
        _ = try await mockRun("orchestrator-workers", input: question, folder: folder)
        let (_, dom) = try await report("last", store: folder.storePath, in: folder.url, name: "fan-out")
        #expect(dom.contains("for each planner.sub_questions"))
        #expect(dom.contains("× 4 items"))
        for item in 0..<4 {
            #expect(Self.bars(dom, unit: "investigate[\(item)]") == 1)
        }
        #expect(dom.contains(#"class="edge" data-from="investigate" data-to="synthesizer""#))
        #expect(dom.contains(#"critical" data-unit="synthesizer">"#))
    }

    @Test func aBatchShowsCountsDistributionsAndFailures() async throws {
        let chain = try Chain()
        let server = FakeLLMServer(handler: { request in
            if RunEndToEndTests.stage(of: request) == "draft", request.prompt.contains("doomed") {
                return .error(status: 400, message: "<script>alert(2)</script>", type: "invalid_request_error")
            }
            if RunEndToEndTests.stage(of: request) == "plan", request.prompt.contains("doomed") {
                return .text(#"{"steps": ["doomed"]}"#)
            }
            return RunEndToEndTests.happy(request)
        })
        try server.start()
        defer { server.stop() }
        var lines = (0..<12).map { #"{"topic": "tide \#($0)"}"# }
        lines[3] = #"{"topic": "doomed"}"#
        lines[7] = #"{"subject": "no topic"}"#
        let input = chain.folder.url.appendingPathComponent("inputs.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let batch = try await runPipe(["batch", chain.spec, "--input", input.path, "--store", chain.store], environment: environment(server))
        #expect(batch.status == 1, "\(batch.stderr)")
        let (_, dom) = try await report("last", store: chain.store, in: chain.folder.url, name: "batch")
        #expect(dom.contains(#"<tr data-status="succeeded"><td>succeeded</td><td class="num">10</td>"#))
        #expect(dom.contains(#"<tr data-status="failed"><td>failed</td><td class="num">1</td>"#))
        #expect(dom.contains(#"<tr data-status="invalid_input"><td>invalid_input</td><td class="num">1</td>"#))
        #expect(dom.contains(#"<svg class="histogram" data-histogram="latency""#))
        #expect(dom.contains(#"data-histogram="cost">No item has one."#))
        #expect(dom.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))
        #expect(dom.contains(#"<g class="node planned" data-stage="draft">"#))
        // A run of the batch has its own report.
        let runs = try await RunStore(path: chain.store).runs(limit: 1, specPath: nil)
        let item = try #require(runs.first)
        let (_, itemDOM) = try await report(item.id, store: chain.store, in: chain.folder.url, name: "batch-item")
        #expect(itemDOM.contains("Run \(item.id)"))
    }

    /// An eval's page: its scoreboard (pass rates against `min_pass_rate`), the failed
    /// evaluations at their dataset lines, then its batch.
    @Test func anEvalShowsItsScoreboardFailedEvaluationsAndBatch() async throws {
        let folder = try TemporaryFolder()
        let store = folder.url.appendingPathComponent("pipe.db").path
        let tests = Paths.pipelines.appendingPathComponent("evals/support-triage.test.yaml").path
        let golden = Paths.pipelines.appendingPathComponent("evals/support-triage.golden.jsonl").path
        let eval = try await runPipe(
            ["eval", "--mock", "--tests", tests, "--dataset", golden, "--store", store], environment: ["PATH": "/usr/bin:/bin"])
        #expect(eval.status == 1, "\(eval.stderr)")  // the mock misses two pass rates
        let (_, dom) = try await report("last", store: store, in: folder.url, name: "eval")
        let id = try #require(try await SQLiteEvalRecords(store: RunStore(path: store)).evals(limit: 1).first?.id)
        #expect(dom.contains("Eval \(id)"))
        #expect(dom.contains("<td>category-matches</td><td>2/6</td>"), "\(dom)")
        #expect(dom.contains("<b>not met</b>"))
        #expect(dom.contains("id=\"failed-evaluations\""))
        #expect(dom.contains(#"<tr data-status="succeeded"><td>succeeded</td><td class="num">6</td>"#))
        // By a prefix of its id, the same page.
        let (_, byID) = try await report(String(id.prefix(12)), store: store, in: folder.url, name: "eval-by-id")
        #expect(byID.contains("Eval \(id)"))
    }

    @Test func aBatchAndItsRunsOnPostgreSQLReportAsOnSQLite() async throws {
        let url = try await PostgresServer.shared().database()
        let chain = try Chain()
        let server = FakeLLMServer(handler: Self.chainReplies(failDraft: false))
        try server.start()
        defer { server.stop() }
        let input = chain.folder.url.appendingPathComponent("inputs.jsonl")
        try (0..<5).map { #"{"topic": "tide \#($0)"}"# }.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        let batch = try await runPipe(["batch", chain.spec, "--input", input.path, "--queue", url], environment: environment(server))
        #expect(batch.status == 0, "\(batch.stderr)")
        let (_, dom) = try await report("last", location: ["--queue", url], in: chain.folder.url, name: "batch-postgres")
        #expect(dom.contains(#"<tr data-status="succeeded"><td>succeeded</td><td class="num">5</td>"#))
        // The items' run durations, read from PostgreSQL.
        #expect(dom.contains(#"<svg class="histogram" data-histogram="latency""#))
        #expect(dom.contains("5 items; median"))
        let runs = try await PostgresRunStore(client: PostgresClient.open(url: url)).runs(limit: 1, specPath: nil)
        let item = try #require(runs.first)
        let (_, itemDOM) = try await report(item.id, location: ["--queue", url], in: chain.folder.url, name: "run-postgres")
        #expect(Self.bars(itemDOM, unit: "draft") >= 1)
        #expect(itemDOM.contains(#"<g class="unit succeeded critical" data-unit="final">"#))
        Self.expectHostileAsText(itemDOM)
    }

    @Test func aTenThousandItemBatchGivesABoundedPage() async throws {
        let folder = try TemporaryFolder("pipe-report")
        let store = try RunStore(path: folder.storePath)
        let queue = SQLiteWorkQueue(store: store)
        let spec = "version: 1\nname: big\nstages:\n  only: { prompt: \"{{ input }}\", mock: ok }\n"
        try await queue.create(NewBatch(id: "b-big", specPath: "/tmp/big.yaml", specText: spec, schemaFiles: [:],
                                        specHash: "x", pipelineName: "big"))
        try await queue.enqueue(batch: "b-big", items: (0..<10_000).map { QueuedItem(index: $0, line: $0 + 1, input: .success(.string("in \($0)"))) })
        try await queue.sealBatch("b-big")
        while true {
            let claims = try await queue.claim(batch: "b-big", worker: "w", limit: 1000, lease: .seconds(600))
            if claims.isEmpty { break }
            for claim in claims {
                let failed = claim.index % 7 == 0
                _ = try await queue.finish(claim, result: ItemResult(
                    index: claim.index, status: failed ? .failed : .succeeded, output: failed ? nil : "ok", stage: failed ? "only" : nil,
                    error: failed ? String(repeating: "<x>", count: 5000) : nil, usage: TokenUsage(input: 10, output: claim.index % 50),
                    costUSD: Double(claim.index % 50) / 10_000))
            }
        }
        let info = try #require(try await queue.batch("b-big"))
        let page = BatchReport.page(try await BatchReportData.load(info, queue: queue, catalog: store))
        let html = page.render()
        #expect(html.utf8.count < 3_000_000, "\(html.utf8.count) bytes")
        #expect(html.contains("The first 1000 of 10000 ended items are listed"))
        #expect(html.contains("The first 200 of 1429 failures are listed"))
        #expect(html.contains("&lt;x&gt;") && !html.contains("<x>"))
        #expect(html.contains(#"<tr data-status="succeeded"><td>succeeded</td><td class="num">8571</td>"#))
        Self.expectSelfContained(html)
    }
}

/// `pipe help report` teaches the command.
@Suite struct ReportHelpTests {
    @Test func helpSaysWhatThePageHoldsWhereItGoesAndWhichIdsItTakes() async throws {
        let help = try await runPipe(["help", "report"])
        #expect(help.status == 0, "\(help.stderr)")
        let text = HelpTests.flattened(help.stdout)
        for phrase in [
            "self-contained", "loads nothing from the network", "critical path", "one bar per attempt", "the failed stage red",
            "histograms", "at most 1,000 items", "is escaped", "`last`", "--store", "--queue", "-o, --output <file>",
            "pipe report last -o report.html", "each tool call a named bar",
        ] {
            #expect(text.contains(phrase), "pipe help report does not say \(phrase)")
        }
    }
}

/// The one escaping function every recorded text goes through.
@Suite struct ReportEscapingTests {
    @Test func markupQuotesAndControlCharactersBecomeText() {
        #expect(HTML.escape(#"<script>alert("x")</script>"#) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
        #expect(HTML.escape("</details>]]>&amp;") == "&lt;/details&gt;]]&gt;&amp;amp;")
        #expect(HTML.escape("it's") == "it&#39;s")
        #expect(HTML.escape("a\u{0}b\u{1B}c\td\ne") == "a\u{FFFD}b\u{FFFD}c\td\ne")
        #expect(HTML.escape("café ✓ 🌊 Â\u{A0}") == "café ✓ 🌊 Â\u{A0}")
        #expect(HTML.escape("x\u{85}y\u{7F}z") == "x\u{FFFD}y\u{FFFD}z")
    }

    @Test func anchorsAreSafeIdsForAnyStageName() {
        #expect(HTML.anchor("stage", "investigate[3]") == "stage-investigate.5b3.5d")
        #expect(HTML.anchor("stage", "writer@2") == "stage-writer.402")
        #expect(!HTML.anchor("stage", "\"><script>").contains("<"))
    }

    @Test func longTextIsCutWithANote() {
        let cut = HTML.capped(String(repeating: "a", count: 100), 10)
        #expect(cut.hasPrefix("aaaaaaaaaa\n"))
        #expect(cut.contains("90 more characters"))
    }
}

/// Headless Chromium (Debian's `chromium`, installed by scripts/test-deps.sh), on a thread
/// of its own, with a profile folder of its own and a deadline.
enum Chromium {
    static func run(_ arguments: [String]) async throws -> CommandResult {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["120", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                 "--user-data-dir=\(profile.path)"] + arguments
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": profile.path]
            let out = Pipe(), err = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = out
            process.standardError = err
            try process.runUnblocked()
            return collect(process, out: out, err: err)
        }
    }

    /// The DOM after the page is loaded and laid out.
    static func dumpDOM(_ file: URL) async throws -> String {
        let result = try await run(["--dump-dom", file.absoluteString])
        #expect(result.status == 0, "chromium: \(result.stderr)")
        #expect(result.stdout.contains("</html>"), "chromium printed no DOM: \(result.stderr)")
        return result.stdout
    }

    /// A screenshot into `.build/test-output/report/NAME.png`, kept after the test.
    static func screenshot(_ file: URL, name: String) async throws -> URL {
        let folder = Paths.root.appendingPathComponent(".build/test-output/report")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let png = folder.appendingPathComponent("\(name).png")
        try? FileManager.default.removeItem(at: png)
        let result = try await run(["--screenshot=\(png.path)", "--window-size=1300,2400", "--hide-scrollbars", file.absoluteString])
        #expect(result.status == 0 && FileManager.default.fileExists(atPath: png.path), "chromium: \(result.stderr)")
        return png
    }
}
