import FakeLLM
import Foundation
@testable import PipeKit
import Testing

/// A key that must never show up in an error, a description or a log.
let providerTestKey = "sk-test-SECRET-0123456789abcdef"

func testModel(_ provider: Provider, baseURL: String? = nil, apiKeyEnv: String? = nil, model: String? = nil) -> ResolvedModel {
    ResolvedModel(
        name: "m", provider: provider, model: model ?? (provider == .anthropic ? "claude-test" : "gpt-test"),
        baseURL: baseURL, apiKeyEnv: apiKeyEnv, price: nil)
}

func testRequest(
    _ provider: Provider,
    schema: JSONValue? = nil,
    system: String? = "You are terse.",
    prompt: String = "Say hello.",
    stageName: String = "greet",
    maxTokens: Int = 256,
    temperature: Double? = nil,
    timeout: Duration = .seconds(5)
) -> ModelRequest {
    ModelRequest(
        model: testModel(provider), system: system, messages: [ChatMessage(.user, prompt)], outputSchema: schema,
        stageName: stageName, maxTokens: maxTokens, temperature: temperature, timeout: timeout)
}

/// The provider for `api` talking to `server`, with `providerTestKey` (or no key).
func testProvider(_ api: Provider, _ server: FakeLLMServer, key: String? = providerTestKey) -> any ModelProvider {
    switch api {
    case .anthropic: AnthropicProvider(baseURL: server.baseURL, apiKey: key.map(APIKey.init))
    default: OpenAIProvider(baseURL: server.openAIBaseURL, apiKey: key.map(APIKey.init))
    }
}

/// Calls `provider` and returns the reply or the error, with every progress report. `live`:
/// as for a live display, each event read as it arrives; else the reply read after its transfer.
func call(_ provider: any ModelProvider, _ request: ModelRequest, live: Bool = true) async -> (Result<ModelReply, ProviderError>, [Int]) {
    let progress = Collector<Int>()
    var request = request
    request.liveProgress = live
    do {
        let reply = try await provider.complete(request) { event in
            if case .received(let characters) = event { progress.append(characters) }
        }
        return (.success(reply), progress.all)
    } catch {
        return (.failure(error), progress.all)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

func parsed(_ text: String) -> JSONValue? { try? JSONParser.parse(text) }

/// The reply schema the server saw in its first request.
func sentSchema(_ server: FakeLLMServer) -> JSONValue? {
    server.log.first?.request.replySchema.flatMap(parsed)
}

/// Calls `provider` both ways (`call(_:_:live:)`, live and read after the transfer) and expects
/// the same failure from both: the one, or nil when either succeeded.
func failureBothWays(
    _ provider: any ModelProvider, _ request: ModelRequest, sourceLocation: SourceLocation = #_sourceLocation
) async -> ProviderError? {
    let (live, _) = await call(provider, request, live: true)
    let (after, _) = await call(provider, request, live: false)
    guard let liveError = live.failure, let afterError = after.failure else {
        Issue.record("expected a failure both ways, got \(live) live and \(after) read after the transfer", sourceLocation: sourceLocation)
        return nil
    }
    #expect(liveError.description == afterError.description, "live and read-after-transfer failures differ", sourceLocation: sourceLocation)
    return afterError
}
