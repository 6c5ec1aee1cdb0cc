"""The report reader: typed results read from the marts (never SQL built from user strings)."""
