/// A fake LLM server for tests and benchmarks. See `FakeLLMServer`.
public enum FakeLLM {}
