/// A fake LLM server for tests and benchmarks: see `FakeLLMServer`, `FakeReply`, `FakeRequest`.
public enum FakeLLM {}
