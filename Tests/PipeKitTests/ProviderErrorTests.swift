import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// Failures as both providers report them, against the fake server's faults.
@Suite("Provider errors")
struct ProviderErrorTests {
    static let apis: [Provider] = [.anthropic, .openai]

    private func failure(_ api: Provider, _ reply: FakeReply, timeout: Duration = .seconds(5), schema: JSONValue? = nil)
        async throws -> ProviderError
    {
        // Both ways a reply is read (live, and after the transfer) fail alike.
        try await withFakeServer({ _ in reply }) { server in
            try #require(await failureBothWays(testProvider(api, server), testRequest(api, schema: schema, timeout: timeout)))
        }
    }

    /// The key in no form a user or a log could see.
    private func expectNoKey(_ error: ProviderError, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in [error.description, String(describing: error), String(reflecting: error), "\(error)"] {
            #expect(!text.contains(providerTestKey), "the key leaked: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: apis) func unauthorizedSaysWhichKeyToCheck(_ api: Provider) async throws {
        let error = try await failure(api, .error(status: 401, message: "invalid x-api-key"))
        guard case .status(401, api, let message, _) = error else { Issue.record("got \(error)"); return }
        #expect(message == "invalid x-api-key")
        #expect(!error.isTransient)
        #expect(error.description.contains(api == .anthropic ? "check ANTHROPIC_API_KEY" : "check OPENAI_API_KEY"))
        expectNoKey(error)
    }

    @Test(arguments: apis) func keyEchoedByTheServerIsRedacted(_ api: Provider) async throws {
        let error = try await failure(api, .error(status: 401, message: "Incorrect API key provided: \(providerTestKey)."))
        expectNoKey(error)
        #expect(error.description.contains("Incorrect API key provided: <redacted>."))
    }

    @Test(arguments: apis) func rateLimitedWithRetryAfter(_ api: Provider) async throws {
        let error = try await failure(api, .rateLimited(retryAfter: "7"))
        guard case .status(429, _, _, let retryAfter) = error else { Issue.record("got \(error)"); return }
        #expect(retryAfter == .seconds(7))
        #expect(error.retryAfter == .seconds(7))
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func serverErrorIsTransient(_ api: Provider) async throws {
        let error = try await failure(api, .error(status: 500, message: "boom"))
        guard case .status(500, _, "boom", nil) = error else { Issue.record("got \(error)"); return }
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func badRequestIsNotTransient(_ api: Provider) async throws {
        let error = try await failure(api, .error(status: 400, message: "max_tokens: too large"))
        guard case .status(400, _, "max_tokens: too large", _) = error else { Issue.record("got \(error)"); return }
        #expect(!error.isTransient)
        #expect(error.description.contains("max_tokens: too large"))
    }

    @Test(arguments: apis) func hangWithShortTimeoutTimesOut(_ api: Provider) async throws {
        let start = ContinuousClock.now
        let error = try await failure(api, .hang, timeout: .milliseconds(300))
        guard case .timedOut = error else { Issue.record("got \(error)"); return }
        #expect(error.isTransient)
        #expect(ContinuousClock.now - start < .seconds(20))  // generous: the machine may be busy; the hang itself is endless
    }

    @Test(arguments: apis) func stalledStreamTimesOut(_ api: Provider) async throws {
        let error = try await failure(api, .stallStream(afterEvents: 3), timeout: .milliseconds(300))
        guard case .timedOut = error else { Issue.record("got \(error)"); return }
    }

    @Test(arguments: apis) func cutStreamIsATransientTransportError(_ api: Provider) async throws {
        let error = try await failure(api, .cutStream(afterEvents: 3))
        guard case .transport = error else { Issue.record("got \(error)"); return }
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func streamEndingEarlyWithoutErrorIsTransient(_ api: Provider) async throws {
        // A clean end of the event stream with no message_stop / [DONE] / finish reason.
        let events =
            api == .anthropic
            ? "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n"
            : "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
        let error = try await failure(api, .raw(status: 200, contentType: "text/event-stream", body: events))
        guard case .transport(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("ended before the reply was complete"))
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func errorEventMidStreamIsTransient(_ api: Provider) async throws {
        let error = try await failure(api, .errorMidStream(afterEvents: 3, type: "overloaded_error", message: "Overloaded"))
        guard case .status(529, api, let message, _) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("Overloaded"))
        #expect(message.contains("mid-stream"))
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func invalidRequestErrorEventIsNotTransient(_ api: Provider) async throws {
        let error = try await failure(api, .errorMidStream(afterEvents: 2, type: "invalid_request_error", message: "bad"))
        guard case .status(400, _, _, _) = error else { Issue.record("got \(error)"); return }
        #expect(!error.isTransient)
    }

    @Test(arguments: apis) func notJSONBodyIsInvalidResponse(_ api: Provider) async throws {
        let error = try await failure(api, .notJSON())
        guard case .invalidResponse(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("502 Bad Gateway"))
    }

    @Test(arguments: apis) func notJSONErrorPageKeepsTheStatus(_ api: Provider) async throws {
        let error = try await failure(api, .notJSON("<html>Bad Gateway</html>", status: 502))
        guard case .status(502, _, "<html>Bad Gateway</html>", _) = error else { Issue.record("got \(error)"); return }
        #expect(error.isTransient)
    }

    @Test(arguments: apis) func notJSONEventIsInvalidResponse(_ api: Provider) async throws {
        let error = try await failure(api, .raw(status: 200, contentType: "text/event-stream", body: "data: {nope\n\n"))
        guard case .invalidResponse = error else { Issue.record("got \(error)"); return }
    }

    @Test(arguments: apis) func connectionRefusedIsTransport(_ api: Provider) async throws {
        let server = FakeLLMServer()
        try server.start()
        let provider = testProvider(api, server)
        server.stop()
        let (result, _) = await call(provider, testRequest(api))
        let error = try #require(result.failure)
        guard case .transport = error else { Issue.record("got \(error)"); return }
        expectNoKey(error)
    }

    @Test(arguments: apis, [true, false]) func cancellationIsCancelled(_ api: Provider, live: Bool) async throws {
        try await withFakeServer({ _ in .hang }) { server in
            let provider = testProvider(api, server)
            let task = Task { await call(provider, testRequest(api, timeout: .seconds(30)), live: live).0 }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let error = try #require(await task.value.failure)
            guard case .cancelled = error else { Issue.record("got \(error)"); return }
        }
    }

    @Test func providerAndKeyNeverPrintTheKey() {
        let key = APIKey(providerTestKey)
        // A client of its own: the shared one may hold other tests' requests in flight,
        // whose headers `dump` shows (HTTPHeaders hides values from `description` only).
        let client = HTTPClient()
        let providers: [any ModelProvider] = [
            AnthropicProvider(baseURL: "https://example.com", apiKey: key, client: client),
            OpenAIProvider(baseURL: "https://example.com/v1", apiKey: key, client: client),
        ]
        for provider in providers {
            for text in [String(describing: provider), String(reflecting: provider), "\(provider)"] {
                #expect(!text.contains(providerTestKey), "\(text)")
            }
            var dumped = ""
            dump(provider, to: &dumped)
            #expect(!dumped.contains(providerTestKey), "\(dumped)")
        }
        #expect("\(key)" == "<redacted>")
    }

    @Test func aKeyAnywhereInAReplyIsRedacted() {
        let mapper = ProviderErrorMapper(provider: .openai, apiKey: APIKey(providerTestKey))
        #expect(mapper.redact(providerTestKey) == "<redacted>")
        #expect(mapper.redact("\(providerTestKey) at the start") == "<redacted> at the start")
        #expect(mapper.redact("at the end é \(providerTestKey)") == "at the end é <redacted>")
        #expect(mapper.redact("twice \(providerTestKey)\(providerTestKey)") == "twice <redacted><redacted>")
        // Its start without its end, or its end without its start, is no key.
        let half = String(providerTestKey.dropLast())
        #expect(mapper.redact("nearly \(half)") == "nearly \(half)")
        #expect(mapper.redact("\(half)\(providerTestKey)\(half)") == "\(half)<redacted>\(half)")
        #expect(mapper.redact(String(providerTestKey.dropFirst())) == String(providerTestKey.dropFirst()))
        #expect(mapper.redact("") == "")
    }

    @Test func everyErrorDescriptionWithTheKeyInItsInputIsRedacted() {
        let mapper = ProviderErrorMapper(provider: .openai, apiKey: APIKey(providerTestKey))
        let errors: [ProviderError] = [
            mapper.map(.connection("could not reach \(providerTestKey)")),
            mapper.map(.interrupted("cut at \(providerTestKey)")),
            mapper.map(.invalidRequest("header has \(providerTestKey)")),
            mapper.map(HTTPResponse(status: 500, body: Array("oops \(providerTestKey)".utf8))),
            mapper.streamError(["error": ["type": "server_error", "message": .string("oops \(providerTestKey)")]]),
            mapper.invalidResponse("got \(providerTestKey)"),
        ]
        for error in errors { expectNoKey(error) }
    }
}
