"""Tests for `lerax.distribution`."""
