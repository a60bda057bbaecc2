import FakeLLM
import Foundation
@testable import PipeKit
import Testing

@Suite("Provider factory")
struct ProviderFactoryTests {
    @Test func mockWhenForcedOrDeclared() throws {
        #expect(try ProviderFactory(environment: [:], forceMock: true).provider(for: testModel(.anthropic)) is MockProvider)
        #expect(try ProviderFactory(environment: [:]).provider(for: testModel(.mock)) is MockProvider)
    }

    /// Each provider of the registry reads its own variables; one without an API is the mock.
    @Test(arguments: ProviderRegistry.all)
    func eachProviderReadsItsOwnVariables(_ provider: Provider) throws {
        let bare = ProviderFactory(environment: [:])
        guard let api = provider.api else {
            #expect(try bare.provider(for: testModel(provider)) is MockProvider)
            return
        }
        #expect(bare.baseURL(for: testModel(provider)) == api.defaultBaseURL)
        #expect {
            try bare.provider(for: testModel(provider))
        } throws: { error in
            guard case .missingAPIKey(api.apiKeyVariable, provider) = error as? ProviderError else { return false }
            return true
        }
        let factory = ProviderFactory(environment: [api.baseURLVariable: "https://moved.example/v1", api.apiKeyVariable: "k"])
        #expect(factory.baseURL(for: testModel(provider)) == "https://moved.example/v1")
        #expect(factory.apiKeyVariable(for: testModel(provider)) == api.apiKeyVariable)
        #expect(!(try factory.provider(for: testModel(provider)) is MockProvider))
    }

    @Test func defaultEndpoints() throws {
        let factory = ProviderFactory(environment: ["ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"])
        let anthropic = try #require(try factory.provider(for: testModel(.anthropic)) as? AnthropicProvider)
        #expect(anthropic.messagesURL == "https://api.anthropic.com/v1/messages")
        #expect(anthropic.apiKey?.value == "a")
        let openAI = try #require(try factory.provider(for: testModel(.openai)) as? OpenAIProvider)
        #expect(openAI.completionsURL == "https://api.openai.com/v1/chat/completions")
        #expect(openAI.apiKey?.value == "o")
    }

    @Test func environmentBaseURLsAsTheSDKsReadThem() throws {
        let factory = ProviderFactory(environment: [
            "ANTHROPIC_BASE_URL": "https://proxy.example/anthropic/", "OPENAI_BASE_URL": "https://proxy.example/openai/v1",
            "ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o",
        ])
        let anthropic = try #require(try factory.provider(for: testModel(.anthropic)) as? AnthropicProvider)
        #expect(anthropic.messagesURL == "https://proxy.example/anthropic/v1/messages")
        let openAI = try #require(try factory.provider(for: testModel(.openai)) as? OpenAIProvider)
        #expect(openAI.completionsURL == "https://proxy.example/openai/v1/chat/completions")
    }

    @Test func specBaseURLBeatsTheEnvironment() throws {
        let factory = ProviderFactory(environment: ["OPENAI_BASE_URL": "https://env.example/v1", "OPENAI_API_KEY": "o"])
        let model = testModel(.openai, baseURL: "https://spec.example/v1")
        #expect(factory.baseURL(for: model) == "https://spec.example/v1")
        #expect(factory.baseURL(for: testModel(.openai)) == "https://env.example/v1")
        #expect(ProviderFactory(environment: ["OPENAI_BASE_URL": ""]).baseURL(for: testModel(.openai)) == "https://api.openai.com/v1")
    }

    @Test func apiKeyEnvBeatsTheDefaultVariable() throws {
        let factory = ProviderFactory(environment: ["OPENAI_API_KEY": "default", "GROQ_KEY": " groq\n"])
        let model = testModel(.openai, baseURL: "https://api.groq.example/openai/v1", apiKeyEnv: "GROQ_KEY")
        let provider = try #require(try factory.provider(for: model) as? OpenAIProvider)
        #expect(provider.apiKey?.value == "groq")  // trimmed
        #expect(factory.apiKeyVariable(for: model) == "GROQ_KEY")
    }

    @Test func missingKeyForARemoteEndpoint() {
        let factory = ProviderFactory(environment: ["OPENAI_API_KEY": "o"])
        #expect {
            try factory.provider(for: testModel(.anthropic))
        } throws: { error in
            guard case .missingAPIKey("ANTHROPIC_API_KEY", .anthropic) = error as? ProviderError else { return false }
            return (error as? ProviderError)?.isTransient == false
        }
        // api_key_env names a variable that is not set: no falling back to the default one.
        let model = testModel(.openai, apiKeyEnv: "MY_KEY")
        #expect {
            try factory.provider(for: model)
        } throws: { error in
            guard case .missingAPIKey("MY_KEY", .openai) = error as? ProviderError else { return false }
            return true
        }
        #expect(throws: ProviderError.self) { try ProviderFactory(environment: ["ANTHROPIC_API_KEY": ""]).provider(for: testModel(.anthropic)) }
    }

    @Test(arguments: [
        "http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://[::1]:8080/v1", "http://127.1.2.3/v1",
        "https://LOCALHOST/v1", "http://user:pass@127.0.0.1:4000", "http://ollama.localhost/v1",
    ])
    func noKeyNeededOnLoopback(_ url: String) throws {
        let provider = try ProviderFactory(environment: [:]).provider(for: testModel(.openai, baseURL: url))
        #expect((provider as? OpenAIProvider)?.apiKey == nil)
        #expect(ProviderURL.isLoopback(url))
    }

    @Test(arguments: [
        "https://api.openai.com/v1", "http://127.0.0.1.evil.example/v1", "http://10.0.0.5:8000/v1", "http://localhost.example.com/v1",
        "http://[::2]/v1", "http://128.0.0.1/v1", "http://127.0.0.256/v1", "http://evil.example/?x=127.0.0.1", "not a url",
    ])
    func otherHostsAreNotLoopback(_ url: String) {
        #expect(!ProviderURL.isLoopback(url))
        #expect(throws: ProviderError.self) { try ProviderFactory(environment: [:]).provider(for: testModel(.openai, baseURL: url)) }
    }

    @Test func loopbackStillSendsAKeyThatIsSet() throws {
        let factory = ProviderFactory(environment: ["ANTHROPIC_API_KEY": "k"])
        let provider = try factory.provider(for: testModel(.anthropic, baseURL: "http://127.0.0.1:4000"))
        #expect((provider as? AnthropicProvider)?.apiKey?.value == "k")
    }

    @Test func endToEndThroughTheEnvironment() async throws {
        try await withFakeServer({ _ in .text("from env") }) { server in
            let factory = ProviderFactory(environment: ["ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL])
            for api in [Provider.anthropic, .openai] {
                let provider = try factory.provider(for: testModel(api))
                let reply = try await call(provider, testRequest(api)).0.get()
                #expect(reply.answerText == "from env")
            }
            #expect(server.log.map(\.path) == ["/v1/messages", "/v1/chat/completions"])
            #expect(server.log.allSatisfy { $0.request.header("x-api-key") == nil && $0.request.header("authorization") == nil })
        }
    }

    @Test func missingKeyDescriptionNamesTheVariable() {
        let error = ProviderError.missingAPIKey(variable: "ANTHROPIC_API_KEY", provider: .anthropic)
        #expect(error.description == "no API key for anthropic: set ANTHROPIC_API_KEY, or api_key_env on the model")
    }
}
