"""Rooms: the provider interface (base) and its implementations (demo, Docker/Neko)."""
