"""The DeepSeek inference pool over OpenAI-compatible endpoints, and validated generation; knows nothing about gRPC."""
