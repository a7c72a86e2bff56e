"""The platform's gRPC servers, domain engines and runtime."""
