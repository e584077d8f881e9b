"""Zoo model families: backbone, task model and presets per family."""
