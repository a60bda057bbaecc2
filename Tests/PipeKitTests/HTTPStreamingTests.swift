import FakeLLM
import Foundation
import PipeKit
import Synchronization
import Testing

@Suite("HTTP streaming")
struct HTTPStreamingTests {
    /// What a streaming call saw: the head, each chunk with its arrival time, the parsed events.
    final class Observed: Sendable {
        struct State {
            var status: Int?
            var headTime: ContinuousClock.Instant?
            var chunkTimes: [ContinuousClock.Instant] = []
            var parser = SSEParser()
            var events: [SSEEvent] = []
        }
        let state = Mutex(State())

        func head(_ status: Int) {
            state.withLock {
                $0.status = status
                $0.headTime = .now
            }
        }

        func chunk(_ bytes: [UInt8]) {
            state.withLock {
                $0.chunkTimes.append(.now)
                $0.events += $0.parser.feed(bytes)
            }
        }
    }

    private static let text = "The quick brown fox jumps over the lazy dog, twice over."

    private func stream(_ server: FakeLLMServer, path: String, body: [String: Any]) async throws(HTTPError) -> (Observed, HTTPResponse, ContinuousClock.Instant) {
        let observed = Observed()
        let response = try await HTTPClient.shared.stream(
            jsonRequest(server, path: path, body: body),
            onHead: { status, _ in observed.head(status) },
            onChunk: { observed.chunk($0) })
        return (observed, response, .now)
    }

    @Test func anthropicEventsArriveIncrementally() async throws {
        try await withFakeServer({ _ in .text(Self.text).streamed(every: .milliseconds(20), deltaSize: 10) }) { server in
            let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]
            let (observed, response, end) = try await stream(server, path: "/v1/messages", body: body)
            let state = observed.state.withLock { $0 }
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            #expect(response.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(state.status == 200)
            #expect(state.chunkTimes.count >= 3)
            // The first chunk came well before the stream ended: it was not buffered.
            let first = try #require(state.chunkTimes.first)
            #expect(end - first > .milliseconds(100))
            #expect(state.events.map(\.event) == [
                "message_start", "content_block_start", "ping",
                "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
                "content_block_delta", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop",
            ])
            let deltas = state.events.filter { $0.event == "content_block_delta" }.compactMap { event in
                (jsonObject(Array(event.data.utf8))?["delta"] as? [String: Any])?["text"] as? String
            }
            #expect(deltas.joined() == Self.text)
            let messageDelta = try #require(state.events.first { $0.event == "message_delta" })
            let usage = try #require(jsonObject(Array(messageDelta.data.utf8))?["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 14)  // 56 bytes, about 4 a token
        }
    }

    @Test func anthropicForcedToolStreamsInputJSON() async throws {
        let json = #"{"title":"A title","score":7}"#
        try await withFakeServer({ _ in .text(json) }) { server in
            let body: [String: Any] = [
                "model": "claude-test", "max_tokens": 100, "stream": true,
                "messages": [["role": "user", "content": "hi"]],
                "tools": [["name": "emit", "input_schema": ["type": "object"]]],
                "tool_choice": ["type": "tool", "name": "emit"],
            ]
            let (observed, _, _) = try await stream(server, path: "/v1/messages", body: body)
            let events = observed.state.withLock { $0.events }
            let start = try #require(events.first { $0.event == "content_block_start" })
            let block = try #require(jsonObject(Array(start.data.utf8))?["content_block"] as? [String: Any])
            #expect(block["type"] as? String == "tool_use")
            #expect(block["name"] as? String == "emit")
            let partial = events.filter { $0.event == "content_block_delta" }.compactMap { event -> String? in
                let delta = jsonObject(Array(event.data.utf8))?["delta"] as? [String: Any]
                #expect(delta?["type"] as? String == "input_json_delta")
                return delta?["partial_json"] as? String
            }
            #expect(partial.joined() == json)
            let stop = try #require(events.first { $0.event == "message_delta" })
            #expect((jsonObject(Array(stop.data.utf8))?["delta"] as? [String: Any])?["stop_reason"] as? String == "tool_use")
        }
    }

    @Test func openAIChunksArriveIncrementallyWithUsageAndDone() async throws {
        try await withFakeServer({ _ in .text(Self.text).streamed(every: .milliseconds(20), deltaSize: 10) }) { server in
            let body: [String: Any] = [
                "model": "gpt-test", "stream": true, "stream_options": ["include_usage": true],
                "messages": [["role": "system", "content": "be brief"], ["role": "user", "content": "hi"]],
            ]
            let (observed, response, end) = try await stream(server, path: "/v1/chat/completions", body: body)
            let state = observed.state.withLock { $0 }
            #expect(response.status == 200)
            let first = try #require(state.chunkTimes.first)
            #expect(end - first > .milliseconds(100))
            #expect(state.events.last?.data == "[DONE]")
            let chunks = state.events.dropLast().compactMap { jsonObject(Array($0.data.utf8)) }
            #expect(chunks.count == state.events.count - 1)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let content = chunks.compactMap { chunk -> String? in
                let choices = chunk["choices"] as? [[String: Any]]
                return (choices?.first?["delta"] as? [String: Any])?["content"] as? String
            }
            #expect(content.joined() == Self.text)
            let finish = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finish == ["stop"])
            let usage = try #require(chunks.last?["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 14)  // 56 bytes, about 4 a token
            #expect(usage["prompt_tokens"] as? Int == 3)  // "be brief\nhi"
            #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aStreamCutMidwayIsAnErrorAfterSomeEvents() async throws {
        try await withFakeServer({ _ in .cutStream(text: Self.text, afterEvents: 4) }) { server in
            let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]
            let observed = Observed()
            let start = ContinuousClock.now
            await #expect {
                try await HTTPClient.shared.stream(
                    jsonRequest(server, body: body, timeout: .seconds(60)),
                    onHead: { status, _ in observed.head(status) },
                    onChunk: { observed.chunk($0) })
            } throws: { error in
                guard case .interrupted = error as? HTTPError else { return false }
                return true
            }
            #expect(ContinuousClock.now - start < .seconds(30))
            let state = observed.state.withLock { $0 }
            #expect(state.status == 200)
            #expect(state.events.count == 4)
            #expect(server.log.first?.completed == false)
        }
    }

    @Test func aStalledStreamTimesOut() async throws {
        try await withFakeServer({ _ in .stallStream(text: Self.text, afterEvents: 4) }) { server in
            let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]
            let observed = Observed()
            let start = ContinuousClock.now
            await #expect(throws: HTTPError.timedOut) {
                try await HTTPClient.shared.stream(jsonRequest(server, body: body, timeout: .milliseconds(300)), onChunk: { observed.chunk($0) })
            }
            #expect(ContinuousClock.now - start < .seconds(20))
            #expect(observed.state.withLock { $0.events.count } == 4)
        }
    }

    @Test func cancellingAStreamStopsItPromptly() async throws {
        try await withFakeServer({ _ in .text(String(repeating: "slow ", count: 200)).streamed(every: .milliseconds(50)) }) { server in
            let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]
            let observed = Observed()
            let request = jsonRequest(server, body: body, timeout: nil)
            let task = Task { () throws(HTTPError) -> HTTPResponse in
                try await HTTPClient.shared.stream(request, onChunk: { observed.chunk($0) })
            }
            while observed.state.withLock({ $0.chunkTimes.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            let start = ContinuousClock.now
            task.cancel()
            await #expect(throws: HTTPError.cancelled) { try await task.value }
            #expect(ContinuousClock.now - start < .seconds(20))
        }
    }
}

@Suite("HTTP event streams")
struct HTTPEventStreamTests {
    private let body: [String: Any] = ["model": "claude-test", "max_tokens": 100, "stream": true, "messages": [["role": "user", "content": "hi"]]]

    @Test func eventsArriveParsed() async throws {
        try await withFakeServer({ _ in .text("hello world") }) { server in
            let events = Collector<SSEEvent>()
            let response = try await HTTPClient.shared.streamEvents(jsonRequest(server, body: body)) { events.append($0) }
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            #expect(events.all.first?.event == "message_start")
            #expect(events.all.last?.event == "message_stop")
        }
    }

    @Test func anErrorStatusKeepsItsBody() async throws {
        try await withFakeServer({ _ in .error(status: 529, message: "overloaded") }) { server in
            let events = Collector<SSEEvent>()
            let response = try await HTTPClient.shared.streamEvents(jsonRequest(server, body: body)) { events.append($0) }
            #expect(response.status == 529)
            #expect(events.all.isEmpty)
            let error = try #require(jsonObject(response.body)?["error"] as? [String: Any])
            #expect(error["type"] as? String == "overloaded_error")
        }
    }
}
