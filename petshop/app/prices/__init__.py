"""Bulk price changes: `pipeline.apply_price_update` is the job (explicit prices per SKU, or a percentage)."""
