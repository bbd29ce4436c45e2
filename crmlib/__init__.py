"""crmlib: the customer-analytics workbook's shared package (loading, validation, the per-customer table,
one module per CRM practice, rendering and orchestration). See docs/ARCHITECTURE.md."""

__version__ = "0.1.0"

import warnings as _warnings

# pandera imports pyspark.pandas whenever pyspark is installed (the [spark] extra), and pyspark warns about
# the pandas version on import; the workbook never uses pyspark.pandas (crmlib.data.spark_engine uses Spark SQL)
_warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
