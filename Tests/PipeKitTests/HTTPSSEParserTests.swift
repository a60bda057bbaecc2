import PipeKit
import Testing

@Suite("HTTP SSE parser")
struct HTTPSSEParserTests {
    /// Feeds `stream` cut at `cuts` (byte offsets) and returns every event.
    private func parse(_ stream: [UInt8], cuts: [Int]) -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var start = 0
        for cut in cuts.sorted() + [stream.count] where cut >= start {
            events += parser.feed(stream[start..<cut])
            start = cut
        }
        return events
    }

    private func parseWhole(_ text: String) -> [SSEEvent] {
        parse(Array(text.utf8), cuts: [])
    }

    @Test func parsesEventsDataAndIDs() {
        let events = parseWhole("event: message_start\ndata: {\"a\":1}\n\nid: 7\ndata: x\n\n")
        #expect(events == [
            SSEEvent(event: "message_start", data: "{\"a\":1}"),
            SSEEvent(event: "message", data: "x", id: "7"),
        ])
    }

    @Test func joinsMultiLineDataAndKeepsSpacesAfterTheFirst() {
        #expect(parseWhole("data: one\ndata:two\ndata:   three\n\n") == [SSEEvent(data: "one\ntwo\n  three")])
    }

    @Test func handlesCRLFAndLoneCR() {
        #expect(parseWhole("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r") == [
            SSEEvent(event: "a", data: "1"),
            SSEEvent(event: "b", data: "2"),
        ])
    }

    @Test func skipsCommentsUnknownFieldsAndEventsWithoutData() {
        let events = parseWhole(": keep-alive\n\nevent: ping\n\nfoo: bar\ndata\n\nretry: 1500\ndata: z\n\n")
        // `data` with no colon is a data line with an empty value.
        #expect(events == [SSEEvent(data: ""), SSEEvent(data: "z")])
    }

    @Test func theIDPersistsAndRetryIsRead() {
        var parser = SSEParser()
        let events = parser.feed(Array("id: 1\ndata: a\n\ndata: b\n\nretry: 2500\nid\ndata: c\n\n".utf8))
        #expect(events.map(\.id) == ["1", "1", ""])
        #expect(parser.retry == 2500)
    }

    @Test func dropsAByteOrderMarkAndAnUnfinishedEvent() {
        var parser = SSEParser()
        let events = parser.feed([0xEF, 0xBB, 0xBF] + Array("data: a\n\ndata: unfinished\n".utf8))
        #expect(events == [SSEEvent(data: "a")])
        #expect(parser.hasPendingEvent)
    }

    @Test func anySplitOfTheStreamGivesTheSameEvents() {
        let text = "event: content_block_delta\r\ndata: {\"text\":\"héllo wörld 🎉 日本\"}\r\n\r\n: comment\ndata: line1\ndata: line2\r\rid: 42\ndata: ✓\n\n"
        let bytes = Array(text.utf8)
        let expected = parse(bytes, cuts: [])
        #expect(expected.count == 3)
        #expect(expected[0].data == "{\"text\":\"héllo wörld 🎉 日本\"}")
        // Every single cut, including inside \r\n and inside multi-byte characters.
        for cut in 0...bytes.count {
            #expect(parse(bytes, cuts: [cut]) == expected, "cut at \(cut)")
        }
        // Byte by byte, and a few pseudo-random multi-cut splits.
        #expect(parse(bytes, cuts: Array(0...bytes.count)) == expected)
        var generator = SplitMix64(state: 7)
        for _ in 0..<200 {
            let cuts = (0..<5).map { _ in Int(generator.next() % UInt64(bytes.count + 1)) }
            #expect(parse(bytes, cuts: cuts) == expected, "cuts at \(cuts)")
        }
    }
}
