"""What tests and benches share: synthesized calls and their scripts, the evaluation corpus, factories,
live servers and fake upstreams. Nothing here is a test; no test imports another test module."""
