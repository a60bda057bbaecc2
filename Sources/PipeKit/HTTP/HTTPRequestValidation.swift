/// Rejects requests libcurl would send wrongly or that would let text inject headers.
enum HTTPRequestValidation {
    static func check(_ request: HTTPRequest) throws(HTTPError) {
        let lower = request.url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw .invalidRequest("the URL \(HTTPRedaction.urlWithoutQuery(request.url).prefix(200)) is not an http:// or https:// URL")
        }
        guard request.url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw .invalidRequest("the URL contains a space or a control character")
        }
        guard !request.method.isEmpty, request.method.unicodeScalars.allSatisfy(isTokenCharacter) else {
            throw .invalidRequest("the method \(request.method.debugDescription) is not an HTTP token")
        }
        for (name, value) in request.headers {
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(isTokenCharacter) else {
                throw .invalidRequest("the header name \(name.debugDescription) is not an HTTP token")
            }
            // The value is secret: name the header, never quote the value.
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw .invalidRequest("the value of header \(name) contains a line break or NUL")
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
        default: false
        }
    }
}
