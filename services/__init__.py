"""Domain rules and integrations of VDI Taxi: plain Python, no UI framework."""
