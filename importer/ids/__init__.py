"""External ids: the deterministic, versioned recipe that names every transaction (`recipe`)."""
