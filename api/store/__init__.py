"""The durable store: SQLAlchemy tables, the engine, migrations and the queries the routes make."""
