import CLibraries

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
