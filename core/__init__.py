"""Helpers the apps share, below them: nothing here imports an app."""
