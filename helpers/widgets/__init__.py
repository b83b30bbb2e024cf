"""The workbook's widgets, one module per widget (import them from their module)."""
