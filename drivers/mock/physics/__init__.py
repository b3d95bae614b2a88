"""The virtual lab's physics engine: transmons, drive path, exact evolution, readout (issue 5; being built)."""
