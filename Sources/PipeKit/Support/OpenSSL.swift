import CLibraries
import Foundation

/// OpenSSL, loaded and started once for the whole process, whoever uses it first (libcurl's
/// TLS, the fingerprints' SHA-256), without its clean-up at exit: `exit` then neither spends
/// what freeing its tables costs (0.5M instructions after every run's output) nor tears it
/// down under a thread still using it.
enum OpenSSL {
    static let started: Bool = {
        exitUnlessLoaded(pipe_crypto_load())
        return pipe_OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1
    }()
}

/// Ends the process when a library that `pipe` opens where it first needs it cannot be used
/// (`pipe_curl_load`, `pipe_crypto_load`: `failure` names it and its package), with exit 127,
/// as a missing linked library did before `main`.
func exitUnlessLoaded(_ failure: UnsafePointer<CChar>?) {
    guard let failure else { return }
    FileHandle.standardError.write(Data("pipe: \(String(cString: failure))\n".utf8))
    exit(127)
}
