import Foundation

/// The fake server's batch APIs: Anthropic Message Batches (`/v1/messages/batches`) and OpenAI
/// Batch with its Files API (`/v1/files`, `/v1/batches`). Each request of a batch is answered
/// by the server's handler when the batch is created; the batch ends `turnaround` later (or
/// when canceled), and only then are its results readable, in an order other than submitted
/// (the reverse), as the real APIs promise no order.
final class FakeBatches: Sendable {
    private enum Outcome: Sendable {
        /// The reply body (an Anthropic message or an OpenAI chat completion) as JSON text.
        case succeeded(String)
        /// The API's error body as JSON text.
        case errored(status: Int, body: String)
        case expired
        case canceled

        var isSuccess: Bool { if case .succeeded = self { true } else { false } }
    }

    private struct Batch {
        var record: FakeBatchRecord
        var createdAt: Date
        var endsAt: ContinuousClock.Instant
        var endedAt: Date
        var outcomes: [(customID: String, outcome: Outcome)]
        var cancelAt: Date?
        /// OpenAI: the input file, and the output and error files written when it ends.
        var inputFileID: String?
        var endpoint: String?
        var outputFileID: String?
        var errorFileID: String?

        func hasEnded(_ now: ContinuousClock.Instant) -> Bool { cancelAt != nil || now >= endsAt }
    }

    private struct File {
        var filename: String
        var purpose: String
        var bytes: [UInt8]
        var createdAt: Date
    }

    private struct State {
        var options = FakeBatchOptions()
        var batches: [String: Batch] = [:]
        var order: [String] = []
        var files: [String: File] = [:]
        var filesMade = 0
        /// OpenAI batches whose input file was rejected: their `errors.data`.
        var failures: [String: [[String: Any]]] = [:]
        var requestsAnswered = 0
    }

    private let state = Locked(State())

    func setOptions(_ options: FakeBatchOptions) { state.withLock { $0.options = options } }

    var records: [FakeBatchRecord] { state.withLock { state in state.order.compactMap { state.batches[$0]?.record } } }

    /// The reply to `request` when its path is one of the batch APIs', else nil.
    func reply(to request: FakeRequest, handler: FakeLLMServer.Handler) -> FakeReply? {
        // A real-time call (the benchmarks' every request) is no batch route: nothing to split.
        guard request.api == .other else { return nil }
        let parts = request.path.split(separator: "/").map(String.init)
        let baseURL = "http://" + (request.header("host") ?? "127.0.0.1")
        let method = request.method
        func route(_ prefix: [String], _ suffix: [String] = []) -> String? {
            guard parts.count == prefix.count + 1 + suffix.count, Array(parts.prefix(prefix.count)) == prefix,
                Array(parts.suffix(suffix.count)) == suffix
            else { return nil }
            return parts[prefix.count]
        }
        if method == "POST", parts == ["v1", "messages", "batches"] { return createAnthropic(request, handler: handler, baseURL: baseURL) }
        if method == "POST", parts == ["v1", "files"] { return upload(request) }
        if method == "POST", parts == ["v1", "batches"] { return createOpenAI(request, handler: handler) }
        if method == "GET", let id = route(["v1", "messages", "batches"]) { return anthropicStatus(id, baseURL: baseURL) }
        if method == "GET", let id = route(["v1", "messages", "batches"], ["results"]) { return anthropicResults(id) }
        if method == "POST", let id = route(["v1", "messages", "batches"], ["cancel"]) { return cancel(id, baseURL: baseURL) }
        if method == "GET", let id = route(["v1", "files"]) { return fileObject(id) }
        if method == "GET", let id = route(["v1", "files"], ["content"]) { return fileContent(id) }
        if method == "GET", let id = route(["v1", "batches"]) { return openAIStatus(id) }
        if method == "POST", let id = route(["v1", "batches"], ["cancel"]) { return cancel(id, baseURL: baseURL) }
        return nil
    }

    // MARK: - Answering the requests of a batch

    /// What the handler answers to one request of a batch, as a real-time request at `target`.
    private func outcome(
        customID: String, params: [String: Any], target: String, api: FakeRequest.API, handler: FakeLLMServer.Handler
    ) -> Outcome {
        var body = params
        body.removeValue(forKey: "stream")
        let bytes = (try? JSONSerialization.data(withJSONObject: body)).map(Array.init) ?? []
        let (number, options) = state.withLock { state in
            state.requestsAnswered += 1
            return (state.requestsAnswered, state.options)
        }
        let request = FakeRequest(method: "POST", target: target, headers: [], body: bytes, callNumber: number, connectionNumber: 0)
        if options.expire(customID, request) { return .expired }
        let reply = handler(request)
        func answer(_ blocks: [FakeReply.Block], _ stop: FakeReply.StopReason) -> Outcome {
            let message =
                api == .openAI
                ? OpenAIShape.completion(for: request, blocks: blocks, stopReason: stop)
                : AnthropicShape.message(for: request, blocks: blocks, stopReason: stop)
            return .succeeded(JSON.text(message))
        }
        func error(_ status: Int, _ type: String?, _ message: String) -> Outcome {
            let body =
                api == .openAI
                ? OpenAIShape.error(status: status, type: type, message: message)
                : AnthropicShape.error(status: status, type: type, message: message)
            return .errored(status: status, body: JSON.text(body))
        }
        switch reply.action {
        case .answer(let text, let stop): return answer(request.blocks(answering: text), stop)
        case .content(let blocks, let stop): return answer(blocks, stop)
        case .error(let status, let type, let message): return error(status, type, message)
        case .streamError(_, _, let type, let message): return error(type == "overloaded_error" ? 529 : 500, type, message)
        case .raw, .hang, .cut, .stall, .flood: return error(500, nil, "the fake server cannot answer this reply in a batch")
        }
    }

    // MARK: - Anthropic

    /// `^[a-zA-Z0-9_-]{1,64}$`
    private static func isCustomID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    private func createAnthropic(_ request: FakeRequest, handler: FakeLLMServer.Handler, baseURL: String) -> FakeReply {
        let options = state.withLock { $0.options }
        guard let json = request.json, let requests = json["requests"] as? [[String: Any]], !requests.isEmpty else {
            return .error(status: 400, message: "requests: a non-empty array of {custom_id, params} is required")
        }
        if let max = options.maxRequests, requests.count > max {
            return .error(status: 400, message: "requests: at most \(max) requests per batch, got \(requests.count)")
        }
        if let max = options.maxBytes, request.body.count > max {
            return .error(status: 413, message: "batch of \(request.body.count) bytes exceeds \(max) bytes")
        }
        var seen = Set<String>()
        var items: [(String, [String: Any])] = []
        for (index, entry) in requests.enumerated() {
            guard let id = entry["custom_id"] as? String, Self.isCustomID(id) else {
                return .error(status: 400, message: "requests.\(index).custom_id: must match ^[a-zA-Z0-9_-]{1,64}$")
            }
            guard seen.insert(id).inserted else { return .error(status: 400, message: "requests.\(index).custom_id: duplicate \(id)") }
            guard let params = entry["params"] as? [String: Any], params["model"] is String else {
                return .error(status: 400, message: "requests.\(index).params: an object with a model is required")
            }
            items.append((id, params))
        }
        let outcomes = items.map { ($0.0, outcome(customID: $0.0, params: $0.1, target: "/v1/messages", api: .anthropic, handler: handler)) }
        let id = register(api: .anthropic, items: items, outcomes: outcomes, turnaround: options.turnaround, prefix: "msgbatch_fake_")
        return anthropicStatus(id, baseURL: baseURL)
    }

    private func register(
        api: FakeBatchRecord.API, items: [(String, [String: Any])], outcomes: [(String, Outcome)], turnaround: Duration,
        prefix: String, configure: (inout Batch) -> Void = { _ in }
    ) -> String {
        state.withLock { state in
            let id = prefix + String(state.order.count + 1)
            let now = Date()
            let record = FakeBatchRecord(
                id: id, api: api, customIDs: items.map(\.0), models: items.map { $0.1["model"] as? String ?? "" }, createdAt: .now)
            var batch = Batch(
                record: record, createdAt: now, endsAt: .now + turnaround,
                endedAt: now.addingTimeInterval(Double(turnaround.components.seconds) + Double(turnaround.components.attoseconds) / 1e18),
                outcomes: outcomes.map { (customID: $0.0, outcome: $0.1) })
            configure(&batch)
            state.batches[id] = batch
            state.order.append(id)
            return id
        }
    }

    private func anthropicStatus(_ id: String, baseURL: String, canceling: Bool = false) -> FakeReply {
        let body: [String: Any]? = state.withLock { state in
            guard let batch = state.batches[id], batch.record.api == .anthropic else { return nil }
            let ended = batch.hasEnded(.now) && !canceling
            var counts = ["processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0]
            for (_, outcome) in batch.outcomes {
                let key: String =
                    if !ended { "processing" } else {
                        switch outcome {
                        case .succeeded: "succeeded"
                        case .errored: "errored"
                        case .expired: "expired"
                        case .canceled: "canceled"
                        }
                    }
                counts[key, default: 0] += 1
            }
            return [
                "id": id, "type": "message_batch",
                "processing_status": canceling ? "canceling" : ended ? "ended" : "in_progress",
                "request_counts": counts,
                "created_at": Self.iso(batch.createdAt),
                "expires_at": Self.iso(batch.createdAt.addingTimeInterval(86_400)),
                "ended_at": ended ? Self.iso(batch.cancelAt ?? batch.endedAt) : NSNull(),
                "cancel_initiated_at": batch.cancelAt.map(Self.iso) ?? NSNull(),
                "archived_at": NSNull(),
                "results_url": ended ? "\(baseURL)/v1/messages/batches/\(id)/results" : NSNull(),
            ] as [String: Any]
        }
        guard let body else { return .error(status: 404, message: "no message batch \(id)") }
        return .raw(status: 200, body: JSON.text(body))
    }

    private func anthropicResults(_ id: String) -> FakeReply {
        let lines: [String]? = state.withLock { state in
            guard let batch = state.batches[id], batch.record.api == .anthropic, batch.hasEnded(.now) else { return nil }
            return batch.outcomes.reversed().map { customID, outcome in
                let result: String
                switch outcome {
                case .succeeded(let message): result = #"{"type":"succeeded","message":\#(message)}"#
                case .errored(_, let body): result = #"{"type":"errored","error":\#(body)}"#
                case .expired: result = #"{"type":"expired"}"#
                case .canceled: result = #"{"type":"canceled"}"#
                }
                return #"{"custom_id":\#(JSON.text(customID)),"result":\#(result)}"#
            }
        }
        guard let lines else { return .error(status: 404, message: "no results for message batch \(id): not ended, or no such batch") }
        return .raw(status: 200, contentType: "application/binary", body: lines.map { $0 + "\n" }.joined())
    }

    /// Cancels a batch of either API: its requests are canceled, and it ends at once.
    private func cancel(_ id: String, baseURL: String) -> FakeReply {
        let api: FakeBatchRecord.API? = state.withLock { state in
            guard var batch = state.batches[id] else { return nil }
            if !batch.hasEnded(.now) {
                batch.cancelAt = Date()
                batch.record.canceled = true
                batch.outcomes = batch.outcomes.map { (customID: $0.customID, outcome: .canceled) }
                state.batches[id] = batch
            }
            return batch.record.api
        }
        switch api {
        case nil: return .error(status: 404, message: "no batch \(id)")
        case .anthropic: return anthropicStatus(id, baseURL: baseURL, canceling: true)
        case .openAI: return openAIStatus(id, canceling: true)
        }
    }

    // MARK: - OpenAI

    private func upload(_ request: FakeRequest) -> FakeReply {
        guard let parts = Multipart.parts(of: request) else {
            return .error(status: 400, message: "expected multipart/form-data with a boundary")
        }
        guard let file = parts.first(where: { $0.name == "file" }), let purpose = parts.first(where: { $0.name == "purpose" }) else {
            return .error(status: 400, message: "'file' and 'purpose' are required")
        }
        let id: String = state.withLock { state in
            state.filesMade += 1
            let id = "file-fake\(state.filesMade)"
            state.files[id] = File(
                filename: file.filename ?? "upload", purpose: String(decoding: purpose.body, as: UTF8.self), bytes: file.body,
                createdAt: Date())
            return id
        }
        return fileObject(id)
    }

    private func fileObject(_ id: String) -> FakeReply {
        guard let file = state.withLock({ $0.files[id] }) else { return .error(status: 404, message: "No such File object: \(id)") }
        return .raw(status: 200, body: JSON.text([
            "id": id, "object": "file", "bytes": file.bytes.count, "created_at": Int(file.createdAt.timeIntervalSince1970),
            "filename": file.filename, "purpose": file.purpose, "status": "processed", "status_details": NSNull(),
            "expires_at": NSNull(),
        ] as [String: Any]))
    }

    private func fileContent(_ id: String) -> FakeReply {
        guard let file = state.withLock({ $0.files[id] }) else { return .error(status: 404, message: "No such File object: \(id)") }
        return FakeReply(.raw(status: 200, contentType: "application/octet-stream", body: file.bytes))
    }

    private func createOpenAI(_ request: FakeRequest, handler: FakeLLMServer.Handler) -> FakeReply {
        let options = state.withLock { $0.options }
        guard let json = request.json, let fileID = json["input_file_id"] as? String, let endpoint = json["endpoint"] as? String,
            let window = json["completion_window"] as? String
        else { return .error(status: 400, message: "input_file_id, endpoint and completion_window are required") }
        guard window == "24h" else { return .error(status: 400, message: "completion_window: only 24h is supported") }
        guard endpoint == "/v1/chat/completions" || endpoint == "/v1/responses" || endpoint == "/v1/embeddings" else {
            return .error(status: 400, message: "endpoint: unsupported \(endpoint)")
        }
        guard let file = state.withLock({ $0.files[fileID] }), file.purpose == "batch" else {
            return .error(status: 400, message: "input_file_id: no file \(fileID) with purpose batch")
        }
        if let max = options.maxBytes, file.bytes.count > max {
            return .error(status: 400, message: "input file of \(file.bytes.count) bytes exceeds \(max) bytes")
        }
        var items: [(String, [String: Any])] = []
        var seen = Set<String>()
        var lineErrors: [[String: Any]] = []
        for (index, line) in file.bytes.split(separator: UInt8(ascii: "\n")).enumerated() {
            let entry = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            guard let entry, let id = entry["custom_id"] as? String, entry["method"] as? String == "POST",
                entry["url"] as? String == endpoint, let body = entry["body"] as? [String: Any], body["model"] is String
            else {
                lineErrors.append(["code": "invalid_request", "line": index + 1, "message": "needs custom_id, method POST, url \(endpoint) and a body with a model", "param": NSNull()])
                continue
            }
            if !seen.insert(id).inserted {
                lineErrors.append(["code": "duplicate_custom_id", "line": index + 1, "message": "duplicate custom_id \(id)", "param": NSNull()])
            }
            items.append((id, body))
        }
        if let max = options.maxRequests, items.count > max {
            lineErrors.append(["code": "too_many_requests", "line": NSNull(), "message": "at most \(max) requests per batch", "param": NSNull()])
        }
        let failed = !lineErrors.isEmpty || items.isEmpty
        let outcomes = failed ? [] : items.map { ($0.0, outcome(customID: $0.0, params: $0.1, target: endpoint, api: .openAI, handler: handler)) }
        let id = register(api: .openAI, items: failed ? [] : items, outcomes: outcomes, turnaround: options.turnaround, prefix: "batch_fake") {
            $0.inputFileID = fileID
            $0.endpoint = endpoint
        }
        if failed { state.withLock { $0.failures[id] = lineErrors.isEmpty ? [["code": "empty_file", "line": NSNull(), "message": "no requests", "param": NSNull()]] : lineErrors } }
        return openAIStatus(id)
    }

    private func openAIStatus(_ id: String, canceling: Bool = false) -> FakeReply {
        let body: [String: Any]? = state.withLock { state in
            guard var batch = state.batches[id], batch.record.api == .openAI else { return nil }
            let failures = state.failures[id]
            let ended = batch.hasEnded(.now) && !canceling
            if ended, failures == nil, batch.outputFileID == nil { writeFiles(&batch, &state) }
            state.batches[id] = batch
            let created = Int(batch.createdAt.timeIntervalSince1970)
            let endedAt = Int((batch.cancelAt ?? batch.endedAt).timeIntervalSince1970)
            let succeeded = batch.outcomes.filter { $0.outcome.isSuccess }.count
            let status: String =
                if failures != nil { "failed" } else if canceling { "cancelling" } else if !ended { "in_progress" } else if batch.cancelAt != nil { "cancelled" } else { "completed" }
            return [
                "id": id, "object": "batch", "endpoint": batch.endpoint ?? "", "input_file_id": batch.inputFileID ?? "",
                "completion_window": "24h", "status": status,
                "errors": failures.map { ["object": "list", "data": $0] as [String: Any] } ?? NSNull(),
                "output_file_id": batch.outputFileID ?? NSNull(), "error_file_id": batch.errorFileID ?? NSNull(),
                "created_at": created, "in_progress_at": failures == nil ? created : NSNull(), "expires_at": created + 86_400,
                "finalizing_at": ended && status == "completed" ? endedAt : NSNull(),
                "completed_at": ended && status == "completed" ? endedAt : NSNull(),
                "failed_at": failures != nil ? created : NSNull(), "expired_at": NSNull(),
                "cancelling_at": batch.cancelAt.map { Int($0.timeIntervalSince1970) } ?? NSNull(),
                "cancelled_at": ended && batch.cancelAt != nil ? endedAt : NSNull(),
                "request_counts": [
                    "total": batch.outcomes.count, "completed": ended ? succeeded : 0, "failed": ended ? batch.outcomes.count - succeeded : 0,
                ],
                "metadata": NSNull(),
            ] as [String: Any]
        }
        guard let body else { return .error(status: 404, message: "No batch found with id '\(id)'.") }
        return .raw(status: 200, body: JSON.text(body))
    }

    /// The output file (succeeded requests) and the error file (errored, expired and canceled
    /// ones) of an ended OpenAI batch, each nil when it would be empty.
    private func writeFiles(_ batch: inout Batch, _ state: inout State) {
        var output: [String] = []
        var errors: [String] = []
        for (number, (customID, outcome)) in batch.outcomes.enumerated().reversed() {
            let head = #"{"id":"batch_req_\#(batch.record.id)_\#(number + 1)","custom_id":\#(JSON.text(customID)),"#
            switch outcome {
            case .succeeded(let body):
                output.append(head + #""response":{"status_code":200,"request_id":"req_fake_\#(number + 1)","body":\#(body)},"error":null}"#)
            case .errored(let status, let body):
                errors.append(head + #""response":{"status_code":\#(status),"request_id":"req_fake_\#(number + 1)","body":\#(body)},"error":null}"#)
            case .expired:
                errors.append(head + #""response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}"#)
            case .canceled:
                errors.append(head + #""response":null,"error":{"code":"batch_cancelled","message":"This request was cancelled."}}"#)
            }
        }
        func file(_ lines: [String], _ name: String) -> String? {
            guard !lines.isEmpty else { return nil }
            state.filesMade += 1
            let id = "file-fake\(state.filesMade)"
            state.files[id] = File(filename: name, purpose: "batch_output", bytes: Array(lines.map { $0 + "\n" }.joined().utf8), createdAt: Date())
            return id
        }
        batch.outputFileID = file(output, "batch_\(batch.record.id)_output.jsonl")
        batch.errorFileID = file(errors, "batch_\(batch.record.id)_error.jsonl")
    }

    private static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }
}

/// The parts of a `multipart/form-data` body: each part's field name, file name and bytes.
enum Multipart {
    struct Part {
        var name: String
        var filename: String?
        var body: [UInt8]
    }

    static func parts(of request: FakeRequest) -> [Part]? {
        guard let type = request.header("content-type"), type.lowercased().hasPrefix("multipart/form-data"),
            let range = type.range(of: "boundary=")
        else { return nil }
        var boundary = String(type[range.upperBound...].prefix { $0 != ";" })
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
        let delimiter = Array("--\(boundary)".utf8)
        let body = request.body
        var starts: [Int] = []
        var i = 0
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0], body[i..<(i + delimiter.count)].elementsEqual(delimiter) {
                starts.append(i)
                i += delimiter.count
            } else {
                i += 1
            }
        }
        var parts: [Part] = []
        for (start, end) in zip(starts, starts.dropFirst()) {
            // Each part: the delimiter, CRLF, headers, CRLF CRLF, content, CRLF, next delimiter.
            let chunk = Array(body[(start + delimiter.count)..<end])
            guard let split = firstIndex(of: [13, 10, 13, 10], in: chunk) else { continue }
            let head = String(decoding: chunk[..<split], as: UTF8.self)
            var content = Array(chunk[(split + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            guard let name = attribute("name", in: head) else { continue }
            parts.append(Part(name: name, filename: attribute("filename", in: head), body: content))
        }
        return parts
    }

    private static func attribute(_ key: String, in head: String) -> String? {
        guard let range = head.range(of: " \(key)=\"") ?? head.range(of: ";\(key)=\"") else { return nil }
        return String(head[range.upperBound...].prefix { $0 != "\"" })
    }

    private static func firstIndex(of marker: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= marker.count else { return nil }
        for i in 0...(bytes.count - marker.count) where bytes[i..<(i + marker.count)].elementsEqual(marker) { return i }
        return nil
    }
}
