/// Keeps secrets out of messages: API keys travel in headers and, for some
/// providers, in URL queries.
enum HTTPRedaction {
    static let placeholder = "<redacted>"

    /// `url` without its query and fragment.
    static func urlWithoutQuery(_ url: String) -> String {
        guard let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return url }
        return String(url[..<cut])
    }

    /// `message` with every header value and every URL query of `request` replaced.
    /// Short values (under 4 characters, such as `1` or `gzip`) are left alone: they
    /// are not secrets and replacing them would garble the message.
    static func scrub(_ message: String, for request: HTTPRequest) -> String {
        var result = message
        var secrets = request.headers.map(\.value).filter { $0.count >= 4 }
        if let query = request.url.firstIndex(of: "?") {
            let tail = String(request.url[request.url.index(after: query)...])
            secrets.append(tail)
        }
        // Longest first, so a value containing another is replaced whole.
        for secret in secrets.sorted(by: { $0.count > $1.count }) where !secret.isEmpty {
            result = replacingAll(secret, in: result)
        }
        return result
    }

    /// `text` with every occurrence of `target` replaced by the placeholder.
    private static func replacingAll(_ target: String, in text: String) -> String {
        var result = ""
        var rest = text[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += placeholder
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
