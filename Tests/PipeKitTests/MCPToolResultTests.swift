import Testing

@testable import PipeKit

/// What the model reads of a `tools/call` result: the shapes a server may send, beyond text.
@Suite("MCP tool results")
struct MCPToolResultTests {
    @Test func blocksOtherThanTextAreNamedWithTheirTypeAndSize() throws {
        let result = try JSONParser.parse(
            """
            {"content": [
              {"type": "text", "text": "Here is the chart:"},
              {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
              {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "inline text"}},
              {"type": "resource", "resource": {"uri": "file:///b.bin", "mimeType": "application/octet-stream", "blob": "AAEC"}},
              {"type": "resource_link", "uri": "file:///c.txt", "name": "c"}
            ], "isError": false}
            """)
        let outcome = MCPToolResult.outcome(of: result, limit: 10_000)
        #expect(
            outcome.content == """
                Here is the chart:
                [image/png, 8 bytes]
                inline text
                [resource file:///b.bin, application/octet-stream, 3 bytes]
                [resource link file:///c.txt]
                """)
        #expect(!outcome.isError)
    }

    @Test func structuredContentAloneIsTheResult() throws {
        let result = try JSONParser.parse(#"{"content": [], "structuredContent": {"count": 2}, "isError": true}"#)
        let outcome = MCPToolResult.outcome(of: result, limit: 100)
        #expect(outcome == ToolOutcome(content: #"{"count":2}"#, isError: true))
    }
}
