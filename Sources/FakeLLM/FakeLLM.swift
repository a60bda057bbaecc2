/// A fake LLM server for tests and benchmarks: see `FakeLLMServer`, `FakeReply`, `FakeRequest`.
///
/// Linux only for now: the sockets use Glibc, and `stop()` relies on Linux waking a
/// blocked `accept` when the listening socket is shut down.
public enum FakeLLM {}
