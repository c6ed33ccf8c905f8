"""Pure rules and arithmetic of allotment. Imports nothing from the rest of the package."""
