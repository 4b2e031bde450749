"""The engine's codes as Python enums: Activation, StepRule, Status (see _types.pxd)."""
