"""The three phases of one configuration: train, infer, eval."""
