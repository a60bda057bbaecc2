import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// A reply can neither fill the memory nor hold an attempt past its timeout, whatever the
/// server sends.
@Suite("Reply limits")
struct ReplyLimitTests {
    static let apis: [Provider] = [.anthropic, .openai]

    private func failure(_ api: Provider, _ reply: FakeReply, maxTokens: Int, timeout: Duration = .seconds(20))
        async throws -> ProviderError
    {
        // Both ways a reply is read (live, and after the transfer) fail alike.
        try await withFakeServer({ _ in reply }) { server in
            try #require(await failureBothWays(testProvider(api, server), testRequest(api, maxTokens: maxTokens, timeout: timeout)))
        }
    }

    @Test(arguments: apis) func aHugeReplyFailsAtItsCapWhichTheErrorNames(_ api: Provider) async throws {
        // 32 MiB to a call of max_tokens 256, whose cap is the 1 MiB minimum.
        let error = try await failure(api, .hugeBody(bytes: 32 << 20), maxTokens: 256)
        guard case .invalidResponse(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("larger than 1048576 bytes"), "\(message)")
        #expect(error.isTransient)
        #expect(ReplyLimit.bodyBytes(maxTokens: 256) == 1 << 20)
        #expect(ReplyLimit.bodyBytes(maxTokens: 4096) == 4 << 20)
    }

    @Test(arguments: apis) func anEndlessEventLineFailsAtTheEventCap(_ api: Provider) async throws {
        // max_tokens 4096 allows a 4 MiB body: the line's own cap (1 MiB) ends it first.
        let error = try await failure(api, .endlessEventLine(bytes: 32 << 20), maxTokens: 4096)
        guard case .invalidResponse(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("event of the stream is longer than 1048576 bytes"), "\(message)")
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func aSlowDripEndsAtTheAttemptsTimeout(_ api: Provider) async throws {
        // A character every 10 ms for 5,000 characters: 50 s of a reply that never stalls.
        let start = ContinuousClock.now
        let error = try await failure(
            api, .slowDrip(String(repeating: "a", count: 5_000), every: .milliseconds(10)), maxTokens: 256,
            timeout: .milliseconds(500))
        guard case .timedOut = error else { Issue.record("got \(error)"); return }
        #expect(ContinuousClock.now - start < .seconds(30))  // generous: only a hang would pass it
    }

    @Test func theEventParserKeepsNoLineOrEventLongerThanItsCap() {
        var parser = SSEParser(maxEventBytes: 64)
        #expect(parser.feed(Array("data: short\n\n".utf8)) == [SSEEvent(data: "short")])
        // A line that never ends, fed in pieces.
        for _ in 0..<10 { #expect(parser.feed(Array(repeating: UInt8(ascii: "x"), count: 16)).isEmpty) }
        #expect(parser.overflowed)
        #expect(parser.feed(Array("\n\ndata: after\n\n".utf8)).isEmpty)

        // Many short data lines that add up to one event over the cap.
        var lines = SSEParser(maxEventBytes: 64)
        #expect(lines.feed(Array(String(repeating: "data: 0123456789\n", count: 10).utf8) + [0x0A]).isEmpty)
        #expect(lines.overflowed)
    }
}
