"""Keys, secrets, identifiers, single-use values and outbound HTTP: what keeps the platform safe."""
