import CLibraries

/// SHA-256 (FIPS 180-4), for fingerprints of specs, stages and calls. Not for secrets.
///
/// OpenSSL's libcrypto hashes (loaded with libcurl anyway; its SHA extensions or vector
/// code): a recorded run makes two fingerprints a call on the store's queue, and `pipe run`
/// hashes its spec before its first call (a portable Swift SHA-256 made the fingerprints of a
/// 500-stage run 27M of the queue's 73M instructions; 18M now, BENCHMARKS.md). A value: a
/// copy goes on from where the original was (copied on write), so that a stage's fixed parts
/// are hashed once and each run's inputs after them (`Fingerprint.StageParts`).
public struct SHA256: Sendable {
    private var context = DigestContext()

    public init() {}

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        ownContext()
        let done: Void? = bytes.withContiguousStorageIfAvailable { context.update(UnsafeRawBufferPointer($0)) }
        guard done == nil else { return }
        Array(bytes).withUnsafeBytes { context.update($0) }
    }

    public mutating func update(_ text: String) {
        ownContext()
        var text = text
        text.withUTF8 { context.update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of what was hashed so far (hashing may go on after it).
    public func finalize() -> [UInt8] {
        context.digest()
    }

    /// OpenSSL's SHA-256 fetched now (its provider's first start, some 3M instructions), not
    /// at the first hash: `pipe run` does it beside its start (`HTTPClient.prepareShared`),
    /// not where its store hashes the spec before the first call.
    public static func prepare() {
        _ = DigestContext.algorithm
    }

    private mutating func ownContext() {
        if !isKnownUniquelyReferenced(&context) { context = DigestContext(copying: context) }
    }

    /// The digest as lowercase hex.
    public static func hex(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(text)
        return hex(digest: hasher.finalize())
    }

    /// A digest as lowercase hex.
    static func hex(digest: [UInt8]) -> String {
        digest.withUnsafeBytes { Hex.lowercase($0) }
    }
}

/// An OpenSSL digest context: changed only while one `SHA256` holds it (copied on write), so
/// one that several values share is only read.
private final class DigestContext: @unchecked Sendable {
    private let context: OpaquePointer

    /// SHA-256 from OpenSSL's default provider, fetched once (not looked up at each hash).
    /// (An `EVP_MD` is immutable once fetched, and shared by every thread.)
    nonisolated(unsafe) static let algorithm: OpaquePointer = {
        _ = OpenSSL.started
        guard let algorithm = pipe_EVP_MD_fetch(nil, "SHA256", nil) else {
            fatalError("pipe: OpenSSL offers no SHA-256 (is OPENSSL_CONF leaving out its default provider?)")
        }
        return algorithm
    }()

    init() {
        context = Self.newContext()
        Self.check(pipe_EVP_DigestInit_ex2(context, Self.algorithm, nil))
    }

    init(copying other: DigestContext) {
        context = Self.newContext()
        Self.check(pipe_EVP_MD_CTX_copy_ex(context, other.context))
    }

    deinit { pipe_EVP_MD_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        Self.check(pipe_EVP_DigestUpdate(context, base, bytes.count))
    }

    /// Finished on a copy, so that this context can go on.
    func digest() -> [UInt8] {
        let copy = DigestContext(copying: self)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        Self.check(pipe_EVP_DigestFinal_ex(copy.context, &digest, &length) == 1 && length == 32 ? 1 : 0)
        return digest
    }

    /// A new context; OpenSSL loaded and its SHA-256 fetched first (`algorithm`).
    private static func newContext() -> OpaquePointer {
        _ = algorithm
        guard let context = pipe_EVP_MD_CTX_new() else { fatalError("pipe: out of memory (OpenSSL's digest context)") }
        return context
    }

    /// OpenSSL's digests fail only without memory.
    private static func check(_ result: Int32) {
        if result != 1 { fatalError("pipe: OpenSSL could not hash (out of memory?)") }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
