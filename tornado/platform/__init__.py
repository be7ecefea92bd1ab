"""Adapters between the IOLoop and other event loops and resolvers."""
