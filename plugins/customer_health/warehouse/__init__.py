"""The warehouse: connections, migrations, batch loads with quarantine."""
