import FakeLLM
import Foundation
import PipeKit
import Synchronization

/// Runs `body` against a fresh fake server, stopping it afterwards.
@discardableResult
func withFakeServer<T>(
    _ handler: @escaping FakeLLMServer.Handler,
    _ body: (FakeLLMServer) async throws -> T
) async throws -> T {
    let server = FakeLLMServer(handler: handler)
    try server.start()
    defer { server.stop() }
    return try await body(server)
}

/// A JSON POST to `path` on `server`.
func jsonRequest(
    _ server: FakeLLMServer,
    path: String = "/v1/messages",
    body: [String: Any] = ["model": "claude-test", "max_tokens": 64, "messages": [["role": "user", "content": "hello"]]],
    headers: HTTPHeaders = ["content-type": "application/json"],
    timeout: Duration? = .seconds(5)
) -> HTTPRequest {
    let data = try! JSONSerialization.data(withJSONObject: body)
    return HTTPRequest(url: server.baseURL + path, headers: headers, body: Array(data), timeout: timeout)
}

func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// A thread-safe list for collecting what callbacks see.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
