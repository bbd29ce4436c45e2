"""crmlib: the customer-analytics workbook's shared package (loading, validation, the per-customer table,
one module per CRM practice, rendering and orchestration). See docs/ARCHITECTURE.md."""

__version__ = "0.1.0"
