/// OpenAI's Batch API: the requests as a JSON Lines file uploaded to `POST /v1/files`
/// (`purpose=batch`), `POST /v1/batches` for `/v1/chat/completions` within 24h, `GET
/// /v1/batches/{id}` (its `status` and `request_counts`), then the output and error files'
/// lines (`GET /v1/files/{id}/content`), `POST /v1/batches/{id}/cancel`.
struct OpenAIBatchAPI: ProviderBatchAPI {
    let realtime: OpenAIProvider
    var provider: Provider { .openai }

    init(endpoint: ProviderEndpoint) {
        realtime = OpenAIProvider(endpoint: endpoint)
    }

    private var http: BatchHTTP {
        BatchHTTP(endpoint: realtime.endpoint, keyHeader: OpenAIProvider.keyHeader, extraHeaders: [], mapper: realtime.mapper)
    }

    private func url(_ path: String) -> String { ProviderURL.join(realtime.baseURL, path) }

    func body(for request: ModelRequest) -> JSONValue {
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        guard case .object(var body) = OpenAIRequestBody.make(request, schema: schema, baseURL: realtime.baseURL) else { return .null }
        body["stream"] = nil
        body["stream_options"] = nil
        return .object(body)
    }

    func submit(_ requests: [BatchedRequest]) async throws(ProviderError) -> String {
        // The multipart form, written once straight into the bytes sent: each line is the
        // request's JSON text in its envelope (no second copy of the file as a string).
        let boundary = "pipe-batch-\(UInt64.random(in: 0...UInt64.max))"
        var form: [UInt8] = []
        form.reserveCapacity(requests.reduce(512) { $0 + $1.bytes + 80 })
        form += "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8
        form += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pipe-batch.jsonl\"\r\n".utf8
        form += "Content-Type: application/jsonl\r\n\r\n".utf8
        for request in requests {
            form += #"{"custom_id":"#.utf8
            form += JSONValue.string(request.customID).serialized().utf8
            form += #","method":"POST","url":"/v1/chat/completions","body":"#.utf8
            form += request.json.utf8
            form += "}\n".utf8
        }
        form += "\r\n--\(boundary)--\r\n".utf8
        let uploaded = try await http.send(
            "POST", url("/files"), body: form, contentType: "multipart/form-data; boundary=\(boundary)")
        guard let fileID = (try? JSONParser.parse(uploaded))?["id"]?.stringValue else {
            throw realtime.mapper.invalidResponse("the uploaded batch file has no id")
        }
        let batch = try await http.json(
            "POST", url("/batches"),
            body: ["input_file_id": .string(fileID), "endpoint": "/v1/chat/completions", "completion_window": "24h"])
        guard let id = batch["id"]?.stringValue else { throw realtime.mapper.invalidResponse("the created batch has no id") }
        return id
    }

    func status(_ id: String) async throws(ProviderError) -> ProviderBatchStatus {
        let batch = try await http.json("GET", url("/batches/\(id)"))
        if batch["status"]?.stringValue == "failed" {
            let reason = batch["errors"]?["data"]?[0]?["message"]?.stringValue ?? "no reason given"
            throw ProviderError.status(code: 400, provider: .openai, message: "the batch \(id) failed: \(reason)", retryAfter: nil)
        }
        let counts = batch["request_counts"]
        func count(_ key: String) -> Int { counts?[key]?.numberValue?.intValue ?? 0 }
        let ended = ["completed", "expired", "cancelled"].contains(batch["status"]?.stringValue ?? "")
        return ProviderBatchStatus(
            state: batch["status"]?.stringValue ?? "unknown", ended: ended, total: count("total"), succeeded: count("completed"),
            errored: count("failed"), expired: 0, canceled: 0)
    }

    func results(_ id: String) async throws(ProviderError) -> [String: BatchedResult] {
        let batch = try await http.json("GET", url("/batches/\(id)"))
        var results: [String: BatchedResult] = [:]
        for key in ["output_file_id", "error_file_id"] {
            guard let file = batch[key]?.stringValue else { continue }
            for line in try http.lines(try await http.send("GET", url("/files/\(file)/content"))) {
                guard let customID = line["custom_id"]?.stringValue else { continue }
                if let response = line["response"], response != .null {
                    let status = response["status_code"]?.numberValue?.intValue ?? 500
                    let body = response["body"] ?? .null
                    results[customID] =
                        (200..<300).contains(status)
                        ? .succeeded(body)
                        : .errored(ProviderError.status(
                            code: status, provider: .openai, message: realtime.mapper.message(fromErrorBody: Array(body.serialized().utf8)),
                            retryAfter: nil))
                } else {
                    switch line["error"]?["code"]?.stringValue {
                    case "batch_expired": results[customID] = .expired
                    case "batch_cancelled": results[customID] = .canceled
                    default: results[customID] = .errored(realtime.mapper.streamError(line))
                    }
                }
            }
        }
        return results
    }

    func cancel(_ id: String) async throws(ProviderError) {
        _ = try await http.json("POST", url("/batches/\(id)/cancel"))
    }

    func reply(fromWhole body: JSONValue, request: ModelRequest) async throws(ProviderError) -> ModelReply {
        var reader = OpenAIReplyReader()
        reader.read(whole: body)
        let schema = request.outputSchema.map(ObjectRootSchema.init)
        return try await realtime.reply(from: reader, request: request, schema: schema, body: self.body(for: request))
    }
}
