import FakeLLM
import Foundation
import PipeKit
import Testing

@Suite("HTTP client")
struct HTTPClientTests {
    @Test func plainRequestGetsTheWholeResponse() async throws {
        try await withFakeServer({ _ in .text("hi there") }) { server in
            let response = try await HTTPClient.shared.send(jsonRequest(server, headers: ["content-type": "application/json", "x-api-key": "k-123"]))
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.headers["CONTENT-type"] == "application/json")
            let json = try #require(jsonObject(response.body))
            let content = try #require(json["content"] as? [[String: Any]])
            #expect(content.first?["text"] as? String == "hi there")
            let entry = try #require(server.log.first)
            #expect(entry.path == "/v1/messages")
            #expect(entry.model == "claude-test")
            #expect(entry.request.header("X-API-KEY") == "k-123")
            #expect(entry.request.header("content-type") == "application/json")
            #expect(entry.request.prompt == "hello")
            #expect(entry.request.header("user-agent") == "pipe/\(PipeVersion.current)")
        }
    }

    @Test func getAndEmptyPostWork() async throws {
        try await withFakeServer({ _ in .text("x") }) { server in
            let get = try await HTTPClient.shared.send(HTTPRequest(url: server.baseURL + "/nowhere", method: "GET", timeout: .seconds(5)))
            #expect(get.status == 404)
            let post = try await HTTPClient.shared.send(HTTPRequest(url: server.baseURL + "/v1/messages", timeout: .seconds(5)))
            #expect(post.status == 200)
            #expect(server.log.map(\.request.method) == ["GET", "POST"])
            #expect(server.log[1].body.isEmpty)
        }
    }

    /// Measured at the server, not by the wall clock: on a busy 2-core machine other tests can
    /// hold both executor threads for seconds, but the requests must still all be in flight at once.
    @Test func hundredConcurrentRequestsRunInParallel() async throws {
        try await withFakeServer({ request in .text("reply \(request.callNumber)").delayed(by: .milliseconds(100)) }) { server in
            let client = HTTPClient()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await client.send(jsonRequest(server)).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 100)
            #expect(statuses.allSatisfy { $0 == 200 })
            #expect(server.requestCount == 100)
            let log = server.log
            let inFlight = log.map { entry in
                log.filter { $0.arrival <= entry.arrival && ($0.completion ?? entry.arrival) > entry.arrival }.count
            }
            #expect(inFlight.max() ?? 0 >= 50, "at most \(inFlight.max() ?? 0) of 100 requests were in flight at once")
            #expect(server.connectionsAccepted >= 50)
        }
    }

    /// Tasks that prefer the client's thread as their executor run there between transfers:
    /// their requests, their children's, and their cancellations all still work.
    @Test(.timeLimit(.minutes(1))) func tasksOnTheClientsOwnThreadSendAndCancel() async throws {
        try await withFakeServer({ request in
            request.prompt == "hang" ? .hang : FakeReply.text("reply \(request.callNumber)").delayed(by: .milliseconds(20))
        }) { server in
            let client = HTTPClient()
            let statuses = try await withTaskExecutorPreference(client.executor) {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            let first = try await client.send(jsonRequest(server)).status
                            let second = try await client.send(jsonRequest(server)).status
                            return first + second
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(statuses == Array(repeating: 400, count: 20))
            #expect(server.requestCount == 40)

            let hang = jsonRequest(server, body: ["model": "claude-test", "max_tokens": 64, "messages": [["role": "user", "content": "hang"]]], timeout: nil)
            let hanging = Task(executorPreference: client.executor) { try await client.send(hang) }
            while server.requestCount == 40 { try await Task.sleep(for: .milliseconds(10)) }
            hanging.cancel()
            await #expect(throws: HTTPError.cancelled) { try await hanging.value }
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            let client = HTTPClient()
            for number in 0..<5 {
                let response = try await client.send(jsonRequest(server))
                #expect(response.status == 200)
                #expect(response.metrics.reusedConnection == (number > 0))
            }
            #expect(server.requestCount == 5)
            #expect(server.connectionsAccepted == 1)
            let reused = try await client.send(jsonRequest(server))
            #expect(reused.metrics.reusedConnection)
            #expect(reused.metrics.connect == .zero)
            #expect(reused.metrics.total >= reused.metrics.firstByte)
            #expect(Set(server.log.map(\.request.connectionNumber)) == [1])
        }
    }

    /// The client keeps the easy handles of finished transfers for the next ones: nothing of a
    /// request (its headers, body, method, timeout) may reach the request after it.
    @Test func aRequestCarriesNothingOfTheOneBefore() async throws {
        try await withFakeServer({ request in
            request.callNumber == 2 ? FakeReply.text("slow").delayed(by: .milliseconds(2500)) : .text("ok")
        }) { server in
            let client = HTTPClient()
            let first = try await client.send(jsonRequest(
                server, headers: ["content-type": "application/json", "x-custom": "one"], timeout: .seconds(2)))
            #expect(first.status == 200)
            // Longer than the first request's timeout.
            let second = try await client.send(HTTPRequest(url: server.baseURL + "/v1/messages", timeout: nil))
            #expect(second.status == 200)
            let third = try await client.send(HTTPRequest(url: server.baseURL + "/nowhere", method: "GET", timeout: .seconds(5)))
            #expect(third.status == 404)
            let fourth = try await client.send(jsonRequest(server))
            #expect(fourth.status == 200)
            let log = server.log
            #expect(log.map(\.request.method) == ["POST", "POST", "GET", "POST"])
            #expect(log.map { $0.request.header("x-custom") } == ["one", nil, nil, nil])
            #expect(log.map(\.body.isEmpty) == [false, true, true, false])
            #expect(log[3].request.prompt == "hello")
            #expect(server.connectionsAccepted == 1)
        }
    }

    @Test func timeoutAgainstAHangIsPrompt() async throws {
        try await withFakeServer({ _ in .hang }) { server in
            let start = ContinuousClock.now
            await #expect(throws: HTTPError.timedOut) {
                try await HTTPClient.shared.send(jsonRequest(server, timeout: .milliseconds(300)))
            }
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(250))
            #expect(elapsed < .seconds(20), "timed out after \(elapsed)")
        }
    }

    @Test func cancellingAHangingRequestIsPrompt() async throws {
        try await withFakeServer({ _ in .hang }) { server in
            let request = jsonRequest(server, timeout: nil)
            let task = Task { () throws(HTTPError) -> HTTPResponse in
                try await HTTPClient.shared.send(request)
            }
            // Wait until the server holds the request, then cancel.
            while server.requestCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let start = ContinuousClock.now
            task.cancel()
            let result = await task.result
            let elapsed = ContinuousClock.now - start
            #expect(throws: HTTPError.cancelled) { try result.get() }
            #expect(elapsed < .seconds(20), "cancellation took \(elapsed)")
        }
    }

    @Test func aRequestFromACancelledTaskIsNotSent() async throws {
        try await withFakeServer({ _ in .text("x") }) { server in
            let request = jsonRequest(server)
            let task = Task { () throws(HTTPError) -> HTTPResponse in
                withUnsafeCurrentTask { $0?.cancel() }
                return try await HTTPClient.shared.send(request)
            }
            await #expect(throws: HTTPError.cancelled) { try await task.value }
            #expect(server.requestCount == 0)
        }
    }

    @Test func errorStatusesAreResponsesWithTheirBodies() async throws {
        try await withFakeServer({ _ in .error(status: 500, message: "boom") }) { server in
            let response = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(response.status == 500)
            #expect(!response.isSuccess)
            let error = try #require(jsonObject(response.body)?["error"] as? [String: Any])
            #expect(error["type"] as? String == "api_error")
            #expect(error["message"] as? String == "boom")
        }
    }

    @Test func rateLimitRetryAfterIsVisible() async throws {
        try await withFakeServer({ _ in .rateLimited(retryAfter: "7") }) { server in
            let response = try await HTTPClient.shared.send(jsonRequest(server))
            #expect(response.status == 429)
            #expect(response.headers["retry-after"] == "7")
            #expect(response.retryAfter() == .seconds(7))
        }
    }

    @Test func aScriptFailsFirstThenSucceeds() async throws {
        let server = FakeLLMServer(script: [.error(status: 500), .text("second")])
        try server.start()
        defer { server.stop() }
        let first = try await HTTPClient.shared.send(jsonRequest(server))
        let second = try await HTTPClient.shared.send(jsonRequest(server))
        let third = try await HTTPClient.shared.send(jsonRequest(server))
        #expect([first.status, second.status, third.status] == [Int]([500, 200, 200]))
    }

    @Test func aCutResponseIsAnErrorNotAHang() async throws {
        try await withFakeServer({ _ in .cutStream(text: String(repeating: "word ", count: 50)) }) { server in
            await #expect {
                try await HTTPClient.shared.send(jsonRequest(server))
            } throws: { error in
                guard case .interrupted = error as? HTTPError else { return false }
                return true
            }
        }
    }

    @Test func aRefusedConnectionIsAConnectionError() async throws {
        // Find a port nobody listens on: start a server, note its port, stop it.
        let server = FakeLLMServer()
        let port = try server.start()
        server.stop()
        await #expect {
            try await HTTPClient.shared.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/messages", timeout: .seconds(2)))
        } throws: { error in
            guard case .connection(let message) = error as? HTTPError else { return false }
            return !message.isEmpty
        }
    }

    @Test func errorsNeverContainHeaderValues() async throws {
        let key = "sk-ant-secret-0123456789"
        let bearer = "Bearer sk-openai-secret-9876543210"
        let headers: HTTPHeaders = ["x-api-key": key, "Authorization": bearer, "content-type": "application/json"]
        var errors: [any Error] = []
        // A refused connection.
        let gone = FakeLLMServer()
        let port = try gone.start()
        gone.stop()
        do {
            _ = try await HTTPClient.shared.send(HTTPRequest(url: "http://127.0.0.1:\(port)/?key=\(key)", headers: headers, timeout: .seconds(2)))
        } catch { errors.append(error) }
        // A timeout, a cut, a malformed URL, an invalid header.
        try await withFakeServer({ request in request.callNumber == 1 ? .hang : .cutStream() }) { server in
            for _ in 0..<2 {
                do {
                    _ = try await HTTPClient.shared.send(jsonRequest(server, headers: headers, timeout: .milliseconds(200)))
                } catch { errors.append(error) }
            }
        }
        do {
            _ = try await HTTPClient.shared.send(HTTPRequest(url: "http://[::1/?key=\(key)", headers: headers, timeout: .seconds(2)))
        } catch { errors.append(error) }
        do {
            _ = try await HTTPClient.shared.send(HTTPRequest(url: "http://127.0.0.1:1/", headers: ["x-api-key": key + "\r\nX-Evil: 1"]))
        } catch { errors.append(error) }

        #expect(errors.count == 5)
        for error in errors {
            let text = "\(error) \(String(reflecting: error))"
            #expect(!text.contains("secret"), "\(text)")
        }
        let request = HTTPRequest(url: "http://127.0.0.1:1/?key=\(key)", headers: headers)
        #expect(!"\(request)".contains("secret"))
        #expect("\(request.headers)" == "[x-api-key, Authorization, content-type]")
    }

    @Test func invalidRequestsAreRejectedBeforeSending() async throws {
        await #expect(throws: HTTPError.self) {
            try await HTTPClient.shared.send(HTTPRequest(url: "ftp://example.com/"))
        }
        await #expect(throws: HTTPError.self) {
            try await HTTPClient.shared.send(HTTPRequest(url: "http://127.0.0.1:1/", headers: ["bad name": "x"]))
        }
        await #expect(throws: HTTPError.self) {
            try await HTTPClient.shared.send(HTTPRequest(url: "http://127.0.0.1:1/", method: "PO ST"))
        }
    }

    @Test func aDiscardedClientCancelsNothingButEndsItsThread() async throws {
        try await withFakeServer({ _ in .text("ok") }) { server in
            for _ in 0..<3 {
                let client = HTTPClient()
                let response = try await client.send(jsonRequest(server))
                #expect(response.status == 200)
            }
        }
    }
}

@Test func dumpingHeadersNeverShowsTheirValues() {
    let headers: HTTPHeaders = ["x-api-key": "sk-ant-secret-123", "Authorization": "Bearer sk-secret-456"]
    var text = ""
    dump(HTTPRequest(url: "http://127.0.0.1/", headers: headers), to: &text)
    dump(headers, to: &text)
    #expect(!text.contains("secret"))
    #expect(text.contains("x-api-key"))
}
