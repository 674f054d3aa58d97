"""Shared chain access for the royalty settlement system."""
