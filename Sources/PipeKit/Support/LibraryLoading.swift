import Foundation

/// Ends the process when a library that `pipe` opens where it first needs it cannot be used
/// (`pipe_curl_load`, `pipe_crypto_load`: `failure` names it and its package), with exit 127,
/// as a missing linked library did before `main`.
func exitUnlessLoaded(_ failure: UnsafePointer<CChar>?) {
    guard let failure else { return }
    FileHandle.standardError.write(Data("pipe: \(String(cString: failure))\n".utf8))
    exit(127)
}
