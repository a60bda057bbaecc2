/// Reads HTTP/1.1 requests off one connection: the head, then a body framed by
/// `Content-Length` or `Transfer-Encoding: chunked`.
struct RequestReader {
    struct Message {
        var method: String
        var target: String
        var version: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            let key = name.lowercased()
            return headers.first { $0.name.lowercased() == key }?.value
        }

        /// Whether the client wants the connection kept open after this exchange.
        var keepAlive: Bool {
            let connection = header("connection")?.lowercased() ?? ""
            return version == "HTTP/1.0" ? connection.contains("keep-alive") : !connection.contains("close")
        }
    }

    enum Failure: Error {
        case closed
        case malformed(String)
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    /// What each read receives, kept for the connection's life.
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private static let maxHead = 256 * 1024

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next request; `.closed` when the peer closed between requests.
    mutating func next() throws(Failure) -> Message {
        let headEnd = try readUntil([13, 10, 13, 10], limit: Self.maxHead)
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count == 3 else { throw .malformed("bad request line") }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            headers.append((
                String(line[..<colon]).trimmingSpaces,
                String(line[line.index(after: colon)...]).trimmingSpaces
            ))
        }
        var message = Message(method: requestLine[0], target: requestLine[1], version: requestLine[2], headers: headers, body: [])
        if message.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            message.body = try readChunkedBody()
        } else if let length = message.header("content-length") {
            guard let count = Int(length), count >= 0 else { throw .malformed("bad Content-Length") }
            try fill(count)
            message.body = Array(buffer[..<count])
            buffer.removeFirst(count)
        }
        return message
    }

    private mutating func readChunkedBody() throws(Failure) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let lineEnd = try readUntil([13, 10], limit: 1024)
            let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            buffer.removeFirst(lineEnd + 2)
            guard let size = Int(sizeText.trimming(" "), radix: 16) else { throw .malformed("bad chunk size") }
            if size == 0 {
                // Trailers until an empty line.
                while true {
                    let end = try readUntil([13, 10], limit: 8192)
                    buffer.removeFirst(end + 2)
                    if end == 0 { return body }
                }
            }
            try fill(size + 2)
            body.append(contentsOf: buffer[..<size])
            buffer.removeFirst(size + 2)
        }
    }

    /// The index where `marker` starts in the buffer, reading more as needed.
    private mutating func readUntil(_ marker: [UInt8], limit: Int) throws(Failure) -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                var i = searchFrom
                while i + marker.count <= buffer.count {
                    if buffer[i] == marker[0], buffer[i..<(i + marker.count)].elementsEqual(marker) { return i }
                    i += 1
                }
                searchFrom = max(0, buffer.count - marker.count + 1)
            }
            guard buffer.count <= limit else { throw .malformed("line or head too long") }
            guard Socket.read(fd, appendingTo: &buffer, scratch: &scratch) else { throw .closed }
        }
    }

    private mutating func fill(_ count: Int) throws(Failure) {
        while buffer.count < count {
            guard Socket.read(fd, appendingTo: &buffer, scratch: &scratch) else { throw .closed }
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String { trimming(" \t") }

    fileprivate func trimming(_ set: String) -> String {
        var slice = self[...]
        while let c = slice.first, set.contains(c) { slice.removeFirst() }
        while let c = slice.last, set.contains(c) { slice.removeLast() }
        return String(slice)
    }
}

extension Substring {
    fileprivate func trimming(_ set: String) -> String { String(self).trimming(set) }
}
