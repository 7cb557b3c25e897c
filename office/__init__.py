"""The domain shared by the commune box and the hub: models and rules, no Flask, no hardware."""
