"""Telling people what happened: event notices, digests and the emails that carry them."""
