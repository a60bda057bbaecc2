import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// A reply read after its transfer (nothing shows it as it grows: `--quiet`, not a terminal,
/// `pipe batch`) is the reply read event by event for a live display: the same blocks, usage,
/// stop reason and model, and the same failures (`ProviderErrorTests` and `ReplyLimitTests`
/// run every fault both ways).
@Suite("Replies read after the transfer")
struct ProviderReadAfterTransferTests {
    static let apis: [Provider] = [.anthropic, .openai]

    private struct Seen: Equatable {
        let content: [ContentBlock]
        let answer: String
        let stopReason: StopReason
        let usage: TokenUsage
        let model: String?

        init(_ reply: ModelReply) {
            (content, answer, stopReason, usage, model) = (reply.content, reply.answerText, reply.stopReason, reply.usage, reply.model)
        }
    }

    /// The reply both ways, and the progress each reported.
    private func bothWays(_ api: Provider, _ reply: FakeReply, _ request: ModelRequest) async throws
        -> (live: ModelReply, after: ModelReply, liveProgress: [Int], afterProgress: [Int])
    {
        // A server each, so that both calls are its first (the tool call ids count the calls).
        let (live, liveProgress) = try await withFakeServer({ _ in reply }) { server in
            await call(testProvider(api, server), request, live: true)
        }
        let (after, afterProgress) = try await withFakeServer({ _ in reply }) { server in
            await call(testProvider(api, server), request, live: false)
        }
        let (liveReply, afterReply) = (try live.get(), try after.get())
        #expect(Seen(liveReply) == Seen(afterReply))
        return (liveReply, afterReply, liveProgress, afterProgress)
    }

    @Test(arguments: apis) func aTextReplyIsTheSameAndItsProgressComesOnceAtTheEnd(_ api: Provider) async throws {
        let text = "The quick brown fox jumps over the lazy dog, twice over."
        let seen = try await bothWays(api, .text(text).streamed(every: .zero, deltaSize: 4), testRequest(api))
        #expect(seen.after.answerText == text)
        #expect(seen.liveProgress.count >= 10)
        #expect(seen.liveProgress.last == text.count)
        #expect(seen.afterProgress == [text.count])
    }

    @Test(arguments: apis) func aStructuredReplyAndToolCallsAreTheSame(_ api: Provider) async throws {
        let schema: JSONValue = ["type": "object", "properties": ["title": ["type": "string"]], "required": ["title"]]
        let value = #"{"title": "A \"quoted\" title ü"}"#
        let seen = try await bothWays(
            api, .text(value).streamed(every: .zero, deltaSize: 3), testRequest(api, schema: schema, stageName: "make_title"))
        #expect(parsed(seen.after.answerText) == parsed(value))
        let blocks: [FakeReply.Block] = [.text("Looking it up."), .toolUse(name: "lookup", input: #"{"q": "tides"}"#)]
        var request = testRequest(api)
        request.tools = [ToolDefinition(name: "lookup", description: "Looks a word up.", inputSchema: ["type": "object"])]
        let tools = try await bothWays(api, .blocks(blocks).streamed(every: .zero, deltaSize: 5), request)
        #expect(tools.after.toolUses.map(\.name) == ["lookup"])
    }

    @Test(arguments: apis) func aServerThatDoesNotStreamIsReadTheSame(_ api: Provider) async throws {
        var reply = FakeReply.text("a whole reply")
        reply.ignoresStreaming = true
        let seen = try await bothWays(api, reply, testRequest(api))
        #expect(seen.after.answerText == "a whole reply")
        #expect(seen.afterProgress == ["a whole reply".count])
    }

    /// Past 1 MiB (the longest event), the rest of the stream is parsed as it arrives: a long
    /// reply of short events is whole.
    @Test(arguments: apis) func aReplyLongerThanTheEventLimitIsWhole(_ api: Provider) async throws {
        let text = String(repeating: "tide tables, ", count: 90_000)  // 1.17 MB of text
        let seen = try await bothWays(
            api, .text(text).streamed(every: .zero, deltaSize: 4096), testRequest(api, maxTokens: 8192, timeout: .seconds(120)))
        #expect(seen.after.answerText == text)
    }

    /// An event over the limit after more than 1 MiB of good ones fails both ways alike.
    @Test(arguments: apis) func anEventOverTheLimitAfterAMegabyteOfEventsFails(_ api: Provider) async throws {
        let ping = api == .anthropic ? "event: ping\ndata: {\"type\":\"ping\"}\n\n" : ": keep-alive\n\n"
        let body = String(repeating: ping, count: (1 << 20) / ping.utf8.count + 100) + "data: {\"pad\": \"" + String(repeating: "x", count: 1 << 20)
        try await withFakeServer({ _ in .raw(status: 200, contentType: "text/event-stream", body: body) }) { server in
            let error = try #require(await failureBothWays(testProvider(api, server), testRequest(api, maxTokens: 8192, timeout: .seconds(120))))
            guard case .invalidResponse(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("event of the stream is longer than 1048576 bytes"), "\(message)")
        }
    }

    /// Anthropic's `content_block_delta` events are read without building their JSON tree:
    /// each of these reads as the same data did through the whole parse (`event: message`,
    /// whose data names its type), including the odd ones that fall back to it.
    @Test func anthropicDeltasReadWithoutATreeReadAsTheWholeParseDoes() {
        let deltas = [
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
            #"{"delta":{"text":"Hi","type":"text_delta"},"index":1,"type":"content_block_delta"}"#,
            "\u{FEFF} { \"type\" : \"content_block_delta\" , \"index\" : 2 ,\n \"delta\" : { \"type\" : \"text_delta\" , \"text\" : \"spaced\" } } \n",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\": \"t\u00fcde \ud83c\udf0a\"}"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"last wins"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"gone"},"delta":"not an object"}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}}"#,
            #"{"type":"content_block_delta","index":1.5,"delta":{"type":"text_delta","text":"odd index"},"extra":[1,{"a":null}]}"#,
            #"{"type":"content_block_delta","index":"3","delta":{"type":"text_delta","text":"string index"}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
            #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminated}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} trailing"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"bad \x escape"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"},}"#,
            #"["content_block_delta"]"#,
        ]
        for data in deltas {
            var fast = AnthropicReplyReader(), whole = AnthropicReplyReader()
            let fastGrew = fast.read(SSEEvent(event: "content_block_delta", data: data))
            let wholeGrew = whole.read(SSEEvent(event: "message", data: data))
            #expect(fastGrew == wholeGrew, "\(data)")
            #expect(String(describing: fast.content.blocks) == String(describing: whole.content.blocks), "\(data)")
            #expect(fast.characters == whole.characters && fast.malformed == whole.malformed, "\(data)")
            #expect(fast.error == whole.error && fast.stopReason == whole.stopReason, "\(data)")
        }
        // Without a type of its own, the event's name says what it is.
        var reader = AnthropicReplyReader()
        let grew = reader.read(SSEEvent(event: "content_block_delta", data: #"{"index":0,"delta":{"type":"text_delta","text":"named"}}"#))
        #expect(grew)
        #expect(reader.content.text == "named")
    }

    /// `ping`, `content_block_stop` and `message_stop` are read without a JSON tree too: each
    /// of these reads as the same data did through the whole parse, whatever the event's name.
    @Test func anthropicBareEventsReadAsTheWholeParseDoes() {
        let events = [
            #"{"type":"ping"}"#,
            #"{"type":"message_stop"}"#,
            #"{"index":0,"type":"content_block_stop"}"#,
            #"{"type":"message_stop","type":"ping"}"#,
            #"{"type":"ping","type":"message_stop"}"#,
            #"{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":3,"output_tokens":1}}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
            #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#,
            #"{"type":"message_stop","extra":[1,{"a":null}],"index":"x"}"#,
            "\u{FEFF} { \"type\" : \"message_stop\" } \n",
            #"{"type":"ping""#,
            #"{"type":"message_stop"} trailing"#,
            #"{"type":"message_stop",}"#,
        ]
        for name in ["ping", "content_block_stop", "message_stop"] {
            for data in events {
                var fast = AnthropicReplyReader(), whole = AnthropicReplyReader()
                let fastGrew = fast.read(SSEEvent(event: name, data: data))
                let wholeGrew = whole.read(SSEEvent(event: "message", data: data))
                #expect(fastGrew == wholeGrew, "\(name) \(data)")
                #expect(String(describing: fast.content.blocks) == String(describing: whole.content.blocks), "\(name) \(data)")
                #expect(fast.stopped == whole.stopped && fast.malformed == whole.malformed && fast.model == whole.model, "\(name) \(data)")
                #expect(fast.error == whole.error && fast.stopReason == whole.stopReason && fast.usage == whole.usage, "\(name) \(data)")
            }
        }
        // Without a type of its own (or with one that is not a string), the event's name says what it is.
        for data in ["{}", #"{"type":7}"#, #"["message_stop"]"#] {
            var stop = AnthropicReplyReader(), ping = AnthropicReplyReader()
            #expect(!stop.read(SSEEvent(event: "message_stop", data: data)) && stop.stopped, "\(data)")
            #expect(!ping.read(SSEEvent(event: "ping", data: data)) && !ping.stopped, "\(data)")
        }
    }
}
