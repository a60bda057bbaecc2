import Foundation
import Testing
@testable import PipeKit

/// The progress of provider batches (`pipe batch --provider-batch`): on a terminal a live line
/// per provider batch being polled, above the counts, cut to the width, gone once it ends;
/// elsewhere a plain line each time a batch's state or counts change.
@Suite struct ProviderBatchProgressTests {
    static let batch = SubmittedProviderBatch(id: "msgbatch_01", provider: "anthropic", model: "claude-test", customIDs: ["i0-a-a1"])
    static let other = SubmittedProviderBatch(id: "batch_02", provider: "openai", model: "gpt-test", customIDs: ["i0-b-a1"])

    static func status(_ state: String, done: Int, errored: Int = 0, expired: Int = 0, ended: Bool = false) -> ProviderBatchStatus {
        ProviderBatchStatus(
            state: state, ended: ended, total: 200, succeeded: done - errored - expired, errored: errored, expired: expired, canceled: 0)
    }

    @Test func aPlainLineEachTimeABatchChanges() {
        let written = Collector<String>()
        let progress = BatchProgress(counts: BatchCounts(pending: 200), mode: .plain) { written.append($0) }
        progress.polled(Self.batch, Self.status("in_progress", done: 0))
        progress.polled(Self.batch, Self.status("in_progress", done: 0))
        progress.polled(Self.batch, Self.status("in_progress", done: 120, errored: 3, expired: 1))
        progress.polled(Self.batch, Self.status("ended", done: 200, errored: 3, expired: 1, ended: true))
        #expect(written.all == [
            "pipe: provider batch msgbatch_01 (anthropic claude-test): in_progress · 0/200 done · 0 errored · 0 expired\n",
            "pipe: provider batch msgbatch_01 (anthropic claude-test): in_progress · 120/200 done · 3 errored · 1 expired\n",
        ])
    }

    @Test func aLiveLinePerBatchAboveTheCountsCutToTheWidthUntilItEnds() {
        let start = ContinuousClock.now
        let progress = BatchProgress(counts: BatchCounts(pending: 200), mode: .live, width: 60, start: start) { _ in }
        progress.polled(Self.batch, Self.status("in_progress", done: 120, errored: 3, expired: 1))
        progress.polled(Self.other, Self.status("finalizing", done: 7))
        let lines = progress.lines(at: start + .seconds(1))
        #expect(lines.count == 3)
        #expect(lines[0] == "provider batch msgbatch_01 (anthropic claude-test): in_pro…")
        #expect(lines[1] == "provider batch batch_02 (openai gpt-test): finalizing · 7/…")
        #expect(lines.allSatisfy { $0.count < 60 })
        #expect(lines[2].hasPrefix("0 done, 0 failed, 0 running, 200 pending"))
        // Unknown width: whole.
        let whole = BatchProgress(counts: BatchCounts(), mode: .live) { _ in }
        whole.polled(Self.batch, Self.status("in_progress", done: 120, errored: 3, expired: 1))
        #expect(whole.lines(at: .now)[0] == "provider batch msgbatch_01 (anthropic claude-test): in_progress · 120/200 done · 3 errored · 1 expired")
        // An ended batch leaves the live lines (its "ended" note says how it went).
        progress.polled(Self.batch, Self.status("ended", done: 200, ended: true))
        #expect(progress.lines(at: start + .seconds(1)).count == 2)
    }

    @Test func aNoteErasesTheLiveLinesAboveTheCountsFirst() async {
        let written = Collector<String>()
        let progress = BatchProgress(counts: BatchCounts(pending: 1), mode: .live, width: 200) { written.append($0) }
        progress.polled(Self.batch, Self.status("in_progress", done: 1))
        progress.polled(Self.other, Self.status("in_progress", done: 2))
        let drawing = Task { await progress.run() }
        while !written.all.contains(where: { $0.contains("batch_02") }) { await Task.yield() }
        progress.note("provider batch x ended")
        progress.finish()
        await drawing.value
        let frames = written.all
        // The frame: two batch lines, then the counts; the note first goes up over both.
        let frame = frames.first { $0.contains("batch_02") } ?? ""
        #expect(frame.components(separatedBy: "\n").count == 3)
        let note = frames.first { $0.contains("provider batch x ended") } ?? ""
        #expect(note.hasPrefix("\r\u{1B}[2K\u{1B}[1A\u{1B}[2K\u{1B}[1A\u{1B}[2Kpipe: provider batch x ended\n"), "\(note.debugDescription)")
    }
}

/// The provider registry says which providers have a batch API: `batch: true` on any other
/// model is a lint error at its place, with the fix.
@Suite struct ProviderBatchRegistryTests {
    @Test func batchTrueOnAProviderWithoutABatchAPIIsALintError() {
        #expect(Provider.anthropic.hasBatchAPI && Provider.openai.hasBatchAPI && !Provider.mock.hasBatchAPI)
        let spec = """
            version: 1
            name: m
            models:
              fake: { provider: mock, model: m, batch: true }
              real: { provider: anthropic, model: claude-test, batch: true }
            defaults: { model: fake }
            stages:
              a: { prompt: "hi" }
            output: "{{ a }}"
            """
        let diagnostics = Compiler.compile(SourceFile(path: "spec.yaml", text: spec), directory: "/nonexistent").diagnostics
        let batch = diagnostics.filter { $0.message.contains("batch API") }
        #expect(batch.count == 1, "\(diagnostics.map(\.message))")
        #expect(batch.first?.rule == .invalidValue)
        #expect(batch.first?.message == "model `fake`: provider `mock` has no batch API")
        #expect(batch.first?.span.start.line == 4)
        #expect(batch.first?.hint?.contains("remove `batch: true`") == true)
    }
}
