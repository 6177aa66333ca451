"""One sample's forward and backward pass, step by step."""
