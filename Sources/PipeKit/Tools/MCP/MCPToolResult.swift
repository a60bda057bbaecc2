/// What MCP's `tools/list` and `tools/call` results mean for pipe.
enum MCPToolResult {
    /// The tools of one `tools/list` page.
    static func tools(in result: JSONValue, server: String) throws(ToolFailure) -> [ToolInfo] {
        guard let tools = result["tools"]?.arrayValue else {
            throw .protocolViolation(server: server, detail: "tools/list answered without a `tools` list")
        }
        return try tools.map { tool throws(ToolFailure) in
            guard let name = tool["name"]?.stringValue else {
                throw .protocolViolation(server: server, detail: "a tool without a name: \(MCPText.excerpt(tool.serialized()))")
            }
            return ToolInfo(
                name: name, description: tool["description"]?.stringValue ?? "",
                inputSchema: tool["inputSchema"] ?? ["type": "object"])
        }
    }

    /// A `tools/call` result as the model will read it: the text blocks joined by newlines,
    /// any other block named with its type and size, cut at `limit` characters with a note.
    static func outcome(of result: JSONValue, limit: Int) -> ToolOutcome {
        let blocks = result["content"]?.arrayValue ?? []
        var text = blocks.map(describe).joined(separator: "\n")
        if blocks.isEmpty, let structured = result["structuredContent"] {
            text = structured.serialized()
        }
        let isError = result["isError"]?.boolValue ?? false
        let fullLength = text.count
        guard fullLength > limit else { return ToolOutcome(content: text, isError: isError, fullLength: fullLength) }
        let cut = String(text.prefix(limit)) + "\n[result cut: the first \(limit) of its \(fullLength) characters are shown]"
        return ToolOutcome(content: cut, isError: isError, fullLength: fullLength)
    }

    private static func describe(_ block: JSONValue) -> String {
        let type = block["type"]?.stringValue ?? "unknown"
        switch type {
        case "text":
            return block["text"]?.stringValue ?? ""
        case "image", "audio":
            let mime = block["mimeType"]?.stringValue ?? type
            return "[\(mime), \(decodedSize(ofBase64: block["data"]?.stringValue ?? "")) bytes]"
        case "resource":
            let resource = block["resource"]
            if let text = resource?["text"]?.stringValue { return text }
            let mime = resource?["mimeType"]?.stringValue ?? "binary"
            let size = decodedSize(ofBase64: resource?["blob"]?.stringValue ?? "")
            return "[resource \(resource?["uri"]?.stringValue ?? ""), \(mime), \(size) bytes]"
        case "resource_link":
            return "[resource link \(block["uri"]?.stringValue ?? "")]"
        default:
            return "[\(type) content]"
        }
    }

    private static func decodedSize(ofBase64 data: String) -> Int {
        let padding = data.utf8.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
        return max(0, data.utf8.count / 4 * 3 - padding)
    }
}
