"""Keys, secrets, identifiers, single-use values, exports and outbound HTTP: what keeps the platform safe."""
