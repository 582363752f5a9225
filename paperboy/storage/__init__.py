"""The only place with SQL. One module per aggregate; engine and migrations here too."""
