"""HTTP routes of the veterinaria service, one module per area."""
