"""Delivery: address a rendered digest to every recipient and send it, exactly once."""
