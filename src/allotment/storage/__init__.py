"""SQL only: tables, migrations, the unit of work and dialect differences."""
