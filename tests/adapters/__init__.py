"""Tests of the analysis and alerting adapters (AWS and local)."""
