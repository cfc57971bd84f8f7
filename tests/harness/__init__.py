"""Test harness: a loopback Kubernetes API (kmock-based), kubectl fixtures, and a local Job runner."""
